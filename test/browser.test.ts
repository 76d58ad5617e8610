// The web page of `ser serve` in a real Chromium (Debian's package, headless,
// driven by puppeteer-core), on the WebGPU adapter Chromium offers (SwiftShader on
// a machine without a GPU; test/util/chromium.ts):
//   1. a file's per-window probabilities equal `ser predict --json`'s within 1e-4;
//   2. the microphone — Chromium's fake capture device playing a WAV — gives a
//      prediction within a bounded time that matches the file's;
//   3. the spectrogram canvas is not blank, and a screenshot is written to
//      test-output/browser-page.png;
//   4. no WebGPU, a refused microphone, a file that is not audio and a checkpoint
//      that does not match its config each show one message, and nothing else
//      reaches the console.
// The model is made here, narrow (width 0.05) so that the page compiles and runs
// it in seconds; its last layer's weights are scaled up so that its probabilities
// depend clearly on the input (an untrained network gives ~1/7 to every class).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession, ElementHandle, Page } from 'puppeteer-core';
import { getGpu } from '../src/kernels/gpu.js';
import { readSafetensors, writeSafetensors } from '../src/model/safetensors.js';
import { resolveRun, startServer, type WebServer } from '../src/cli/serve.js';
import type { PredictionRecord, Top } from '../src/train/predict.js';
import { Rng } from '../src/util/rng.js';
import { testSignal, wav16 } from './util/audio-files.js';
import { ROOT, runSer, writeTinyRun } from './util/cli.js';
import { launchChromium, type Chromium } from './util/chromium.js';

// Chromium comes with `npm test`'s set-up (scripts/setup-swiftshader.sh); without it these tests fail, unless left out on purpose.
const skip = process.env.SER_BROWSER === '0';
if (skip) console.warn('browser.test.ts: SER_BROWSER=0, so the web page is not tested in Chromium');

const dir = mkdtempSync(join(tmpdir(), 'ser-browser-'));
const OUT = join(ROOT, 'test-output');
const files = { long: join(dir, 'long.wav'), steady: join(dir, 'steady.wav'), text: join(dir, 'notes.wav') };

/** 6 s at 48 kHz whose every second is the same (tones of whole hertz, one second of noise repeated): Chromium's fake device loops it without a seam, so any window of the capture looks like the file's. */
function steadySignal(): Float32Array {
  const sr = 48000;
  const rng = new Rng(5);
  const noise = Float32Array.from({ length: sr }, () => 0.04 * (rng.next() - 0.5));
  return Float32Array.from({ length: 6 * sr }, (_, i) => {
    const t = i / sr;
    return 0.2 * Math.sin(2 * Math.PI * 220 * t) + 0.1 * Math.sin(2 * Math.PI * 440 * t) + 0.05 * Math.sin(2 * Math.PI * 1320 * t) + noise[i % sr]!;
  });
}

/** A narrow run with decisive outputs: the untrained network's final layer scaled ×40. */
async function writeRun(runDir: string, width: number): Promise<string> {
  mkdirSync(runDir, { recursive: true });
  const { checkpoint } = await writeTinyRun(await getGpu(), runDir, width);
  const { tensors, metadata } = await readSafetensors(checkpoint);
  (tensors['dense3.kernel']!.data as Float32Array).forEach((v, i, a) => (a[i] = v * 40));
  await writeSafetensors(checkpoint, tensors, metadata);
  return checkpoint;
}

let chromium: Chromium;
let web: WebServer;
let page: Page;
let cdp: CDPSession;
const cli = new Map<string, PredictionRecord>();
/** Console errors and uncaught exceptions of every page, in order. */
const problems: string[] = [];

async function openPage(url: string, before?: (p: Page) => Promise<unknown>): Promise<Page> {
  const p = await chromium.browser.newPage();
  p.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  p.on('pageerror', (e) => problems.push(`pageerror: ${(e as Error).message}`));
  await before?.(p);
  await p.goto(url);
  await p.waitForFunction(() => document.body.dataset.state !== 'loading', { timeout: 120_000, polling: 200 });
  return p;
}

/** Grants or refuses the page's origin the microphone, as a person would in the permission prompt. */
async function microphone(setting: 'granted' | 'denied'): Promise<void> {
  await cdp.send('Browser.setPermission', { origin: new URL(web.url).origin, permission: { name: 'microphone' }, setting });
}

/** Picks `file` in the page's file input, as the Open button's dialog would. */
async function pick(p: Page, file: string): Promise<void> {
  await ((await p.$('#file')) as ElementHandle<HTMLInputElement>).uploadFile(file);
}

const text = (p: Page, id: string): Promise<string> => p.$eval(`#${id}`, (e) => e.textContent ?? '');
const messageOf = (p: Page): Promise<string | null> => p.$eval('#message', (e) => ((e as HTMLElement).hidden ? null : e.textContent));

/** Waits until #id's text is non-empty and differs from `before`, or a message appears. */
async function changed(p: Page, id: string, before: string, timeout: number): Promise<void> {
  await p.waitForFunction((i, b) => (document.getElementById(i)!.textContent ?? '') !== b || !document.getElementById('message')!.hidden, { timeout, polling: 100 }, id, before);
}

beforeAll(async () => {
  if (skip) return;
  mkdirSync(OUT, { recursive: true });
  writeFileSync(files.long, wav16(testSignal(10, 44100, 3), 44100));
  writeFileSync(files.steady, wav16(steadySignal(), 48000));
  writeFileSync(files.text, 'Not audio: a text file with a .wav name.\n'.repeat(20));
  const checkpoint = await writeRun(join(dir, 'run'), 0.05);
  // A network of another width than its config.json says.
  await writeRun(join(dir, 'mismatch'), 0.1);
  copyFileSync(join(dir, 'run', 'config.json'), join(dir, 'mismatch', 'config.json'));
  const predicted = await runSer(['predict', '--model', checkpoint, '--json', files.long, files.steady], { timeoutMs: 120_000 });
  expect(predicted.code, predicted.stderr).toBe(0);
  for (const line of predicted.stdout.trim().split('\n')) {
    const r = JSON.parse(line) as PredictionRecord;
    cli.set(r.file, r);
  }
  web = await startServer(resolveRun(join(dir, 'run')), 0);
  chromium = await launchChromium({ fakeAudio: files.steady });
  cdp = await chromium.browser.target().createCDPSession();
  await microphone('granted');
  const t0 = performance.now();
  page = await openPage(web.url);
  console.log(`page ready (WebGPU, model, kernels compiled) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${await text(page, 'adapter')}`);
  expect(await messageOf(page)).toBeNull();
}, 300_000);

afterAll(async () => {
  await chromium?.close();
  await web?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Largest difference between two top-3 lists that must name the same emotions in the same order. */
function topDiff(got: Top[], want: Top[], where: string): number {
  expect(got.map((t) => t.emotion), where).toEqual(want.map((t) => t.emotion));
  return Math.max(...got.map((t, i) => Math.abs(t.probability - want[i]!.probability)));
}

describe.skipIf(skip)('the page in Chromium', () => {
  it("a file's per-window probabilities equal `ser predict --json` within 1e-4", async () => {
    const before = await text(page, 'file-json');
    const t0 = performance.now();
    await pick(page, files.long);
    await changed(page, 'file-json', before, 120_000);
    expect(await messageOf(page)).toBeNull();
    const got = JSON.parse(await text(page, 'file-json')) as PredictionRecord;
    const want = cli.get(files.long)!;
    expect(got.file).toBe('long.wav');
    expect(got.seconds).toBe(want.seconds);
    expect(got.windows?.length).toBe(3);
    let max = topDiff(got.top, want.top, 'file');
    got.windows!.forEach((w, i) => {
      expect([w.start, w.end]).toEqual([want.windows![i]!.start, want.windows![i]!.end]);
      max = Math.max(max, topDiff(w.top, want.windows![i]!.top, `window ${i}`));
    });
    console.log(`file: ${got.windows!.length} windows in ${((performance.now() - t0) / 1000).toFixed(1)} s; page ${await text(page, 'latency')}; largest difference from ser predict ${max.toExponential(2)} (top: ${got.top.map((t) => `${t.emotion} ${t.probability.toFixed(3)}`).join(', ')})`);
    expect(max).toBeLessThanOrEqual(1e-4);
    // The table shows every window, as ser predict prints them.
    expect(await page.$$eval('#windows-body tr', (rows) => rows.length)).toBe(3);
  });

  it('a file that is not audio shows one message', async () => {
    const seen = problems.length;
    await pick(page, files.text);
    await page.waitForFunction(() => !document.getElementById('message')!.hidden, { timeout: 30_000 });
    expect(await messageOf(page)).toMatch(/^notes\.wav is not audio this page can read: data is not RIFF\/WAVE or AIFF\. Use a WAV or AIFF file/);
    expect(problems.slice(seen)).toEqual([]);
  });

  it('a refused microphone shows one message', async () => {
    const seen = problems.length;
    await microphone('denied');
    try {
      await page.click('#mic');
      await page.waitForFunction(() => /microphone was refused/.test(document.getElementById('message')!.textContent ?? ''), { timeout: 30_000 });
      expect(await messageOf(page)).toMatch(/^The microphone was refused\. Allow this page to use it/);
      expect(await text(page, 'mic')).toBe('Start microphone');
    } finally {
      await microphone('granted');
    }
    expect(problems.slice(seen)).toEqual([]);
  });

  it("the microphone (Chromium's fake device playing a WAV) gives a prediction within 40 s that matches the file's", async () => {
    const t0 = performance.now();
    await page.click('#mic');
    await changed(page, 'live-json', '', 40_000);
    const seconds = (performance.now() - t0) / 1000;
    expect(await messageOf(page)).toBeNull();
    const live = JSON.parse(await text(page, 'live-json')) as { start: number; end: number; top: Top[] };
    const file = cli.get(files.steady)!;
    console.log(`microphone: first prediction ${seconds.toFixed(1)} s after Start (${live.start.toFixed(2)}–${live.end.toFixed(2)} s of capture), ${await text(page, 'latency')}; live ${live.top.map((t) => `${t.emotion} ${t.probability.toFixed(3)}`).join(', ')}; file ${file.top.map((t) => `${t.emotion} ${t.probability.toFixed(3)}`).join(', ')}`);
    // The capture went through Chromium's audio path and our resampler from another starting sample: close, not equal.
    expect(live.top[0]!.emotion).toBe(file.top[0]!.emotion);
    for (const t of file.top) {
      const l = live.top.find((x) => x.emotion === t.emotion);
      if (l) expect(Math.abs(l.probability - t.probability), t.emotion).toBeLessThan(0.03);
    }
    expect(await text(page, 'mic')).toBe('Stop microphone');
  });

  it('the spectrogram canvas is not blank; a screenshot of the page is written to test-output/', async () => {
    const stats = await page.$eval('#spectrogram', (c) => {
      const canvas = c as HTMLCanvasElement;
      const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const colours = new Set<number>();
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < d.length; i += 4) {
        colours.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
        const y = 0.2126 * d[i]! + 0.7152 * d[i + 1]! + 0.0722 * d[i + 2]!;
        sum += y;
        sq += y * y;
      }
      const n = d.length / 4;
      return { width: canvas.width, height: canvas.height, colours: colours.size, std: Math.sqrt(sq / n - (sum / n) ** 2) };
    });
    console.log(`spectrogram canvas ${stats.width}×${stats.height}: ${stats.colours} colours, luminance std ${stats.std.toFixed(1)}`);
    expect(stats).toMatchObject({ width: 181, height: 128 });
    expect(stats.colours).toBeGreaterThan(30);
    expect(stats.std).toBeGreaterThan(10);
    await page.click('#mic'); // stop
    const shot = join(OUT, 'browser-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    console.log(`screenshot: ${shot}`);
  });

  it('a checkpoint that does not match its config.json shows one message', async () => {
    const seen = problems.length;
    const bad = await startServer(resolveRun(join(dir, 'mismatch')), 0);
    try {
      const p = await openPage(bad.url);
      expect(await p.$eval('body', (b) => b.dataset.state)).toBe('error');
      expect(await messageOf(p)).toMatch(/^The checkpoint does not match its config\.json \(tensor conv1\.kernel: shape \[1, 5, 5, 1, 6\], model expects \[1, 5, 5, 1, 3\]\)/);
      expect(await p.$eval('#mic', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
      await p.close();
    } finally {
      await bad.close();
    }
    expect(problems.slice(seen)).toEqual([]);
  });

  it('a browser without WebGPU shows one message', async () => {
    const seen = problems.length;
    const p = await openPage(web.url, (q) => q.evaluateOnNewDocument(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined })));
    expect(await p.$eval('body', (b) => b.dataset.state)).toBe('error');
    expect(await messageOf(p)).toMatch(/^No WebGPU: this browser does not offer WebGPU/);
    await p.close();
    expect(problems.slice(seen)).toEqual([]);
  });

  it('no page logged an error or threw anything uncaught, in any of the above', () => {
    expect(problems).toEqual([]);
  });
});
