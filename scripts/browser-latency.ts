// Per-window latency of the same model and audio in the web page (headless
// Chromium, its WebGPU adapter) and in Node (`ser predict`'s code on Dawn), and
// optionally a screenshot of the page at work. docs/BROWSER.md quotes its output.
//
//   npx tsx scripts/browser-latency.ts RUN --wav A.wav [--wav B.wav …] [--side both|node|browser]
//        [--repeat N] [--live-seconds S] [--screenshot docs/browser.png] [--json]
//
// The WAVs are joined into one recording (resampled to the first one's rate). Two
// figures per side, both the front end (STFT, mel, dB on the GPU) plus the network,
// readbacks included, decoding and resampling excluded:
//   - live: one window on its own, as the page's microphone loop predicts it;
//   - file: the whole recording in one pass, per window (windows batched by 16).
// The Node side runs on the Vulkan driver the loader picks (lavapipe here); for
// SwiftShader, the driver Chromium's WebGPU uses on a machine without a GPU:
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx tsx scripts/browser-latency.ts RUN --wav … --side node
import { parseArgs } from 'node:util';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { MelFrontend } from '../src/dsp/frontend.js';
import { resample } from '../src/dsp/resample.js';
import { readAudioFile } from '../src/dsp/wav.js';
import { loadTrainedModel } from '../src/train/run.js';
import { Engine } from '../src/train/engine.js';
import { predictClip, windowSamples } from '../src/train/predict.js';
import { resolveRun, startServer } from '../src/cli/serve.js';
import { wav16 } from '../test/util/audio-files.js';
import type { ElementHandle } from 'puppeteer-core';
import { launchChromium } from '../test/util/chromium.js';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    wav: { type: 'string', multiple: true },
    side: { type: 'string', default: 'both' },
    repeat: { type: 'string', default: '7' },
    'live-seconds': { type: 'string', default: '20' },
    screenshot: { type: 'string' },
    json: { type: 'boolean' },
  },
});
if (positionals.length !== 1 || !o.wav?.length) {
  console.error('usage: npx tsx scripts/browser-latency.ts RUN --wav FILE [--wav FILE …] [--side both|node|browser] [--repeat N] [--live-seconds S] [--screenshot PNG] [--json]');
  process.exit(2);
}
const run = resolveRun(positionals[0]);
const repeat = Number(o.repeat);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The WAVs joined into one recording, written as 16-bit PCM (what Chromium's fake capture device plays). */
async function joinedRecording(dir: string): Promise<string> {
  const clips = await Promise.all(o.wav!.map((f) => readAudioFile(f)));
  const rate = clips[0]!.sampleRate;
  const parts = clips.map((c) => resample(c.samples, c.sampleRate, rate));
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const path = join(dir, 'recording.wav');
  writeFileSync(path, wav16(all, rate));
  return path;
}

interface Side {
  adapter: string;
  liveMs: number;
  fileMsPerWindow: number;
  windows: number;
}

async function nodeSide(wav: string): Promise<Side> {
  const gpu = await getGpu();
  const { model, config } = await loadTrainedModel(gpu, run.checkpoint);
  const frontend = new MelFrontend(gpu, config.features);
  const engine = new Engine(gpu, model, 16, Float32Array.from(config.loss.alpha), config.loss.gamma);
  const audio = await readAudioFile(wav);
  const clip = resample(audio.samples, audio.sampleRate, config.features.sampleRate);
  const one = clip.slice(0, windowSamples(config.features));
  await predictClip(frontend, engine, clip); // compiles every pipeline
  const live: number[] = [];
  const file: number[] = [];
  let windows = 0;
  for (let i = 0; i < repeat; i++) {
    let t = performance.now();
    await predictClip(frontend, engine, one, { spectrograms: true });
    live.push(performance.now() - t);
    t = performance.now();
    windows = (await predictClip(frontend, engine, clip)).probs.length;
    file.push((performance.now() - t) / windows);
  }
  return { adapter: `${gpu.summary.description || gpu.summary.device} (Node, Dawn)`, liveMs: median(live), fileMsPerWindow: median(file), windows };
}

async function browserSide(wav: string): Promise<Side> {
  const web = await startServer(run, 0);
  const chromium = await launchChromium({ fakeAudio: wav });
  try {
    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1000, height: 900 });
    page.on('pageerror', (e) => console.error(`page error: ${(e as Error).message}`));
    await page.goto(web.url);
    await page.waitForFunction(() => document.body.dataset.state !== 'loading', { timeout: 300_000, polling: 200 });
    const message = await page.$eval('#message', (e) => ((e as HTMLElement).hidden ? null : e.textContent));
    if (message) throw new Error(`the page says: ${message}`);
    const adapter = `${await page.$eval('#adapter', (e) => e.textContent)} (Chromium ${(await chromium.browser.version()).split('/')[1]})`;
    const msPerWindow = (): Promise<number> => page.$eval('#latency', (e) => Number((e as HTMLElement).dataset.msPerWindow));
    const file: number[] = [];
    let windows = 0;
    for (let i = 0; i < repeat; i++) {
      await ((await page.$('#file')) as ElementHandle<HTMLInputElement>).uploadFile(wav);
      await page.waitForFunction((n) => document.getElementById('file-result')!.dataset.count === String(n), { timeout: 300_000, polling: 50 }, i + 1);
      file.push(await msPerWindow());
      windows = await page.$$eval('#windows-body tr', (r) => r.length);
    }
    const cdp = await chromium.browser.target().createCDPSession();
    await cdp.send('Browser.setPermission', { origin: new URL(web.url).origin, permission: { name: 'microphone' }, setting: 'granted' });
    await page.click('#mic');
    const live: number[] = [];
    const until = performance.now() + Number(o['live-seconds']) * 1000;
    let last = '';
    while (performance.now() < until) {
      await page.waitForFunction((b) => document.getElementById('live-json')!.textContent !== b, { timeout: 120_000, polling: 50 }, last);
      last = (await page.$eval('#live-json', (e) => e.textContent)) ?? '';
      live.push(await msPerWindow());
    }
    // The first live window may wait on the file work still in the GPU queue.
    live.shift();
    if (o.screenshot) {
      await page.screenshot({ path: o.screenshot, fullPage: true });
      console.error(`screenshot: ${o.screenshot}`);
    }
    return { adapter, liveMs: median(live), fileMsPerWindow: median(file), windows };
  } finally {
    await chromium.close();
    await web.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ser-latency-'));
try {
  const wav = await joinedRecording(dir);
  const result: Record<string, unknown> = {
    run: resolve(run.checkpoint),
    recording: o.wav,
    cpus: cpus().length,
    loadavg: loadavg().map((x) => Number(x.toFixed(2))),
  };
  if (o.side !== 'browser') result.node = await nodeSide(wav);
  if (o.side !== 'node') result.browser = await browserSide(wav);
  result.loadavgAfter = loadavg().map((x) => Number(x.toFixed(2)));
  if (o.json) console.log(JSON.stringify(result));
  else {
    console.log(`load average before ${(result.loadavg as number[]).join(' ')}, after ${(result.loadavgAfter as number[]).join(' ')} on ${result.cpus} CPUs`);
    for (const side of ['node', 'browser'] as const) {
      const s = result[side] as Side | undefined;
      if (s) console.log(`${side.padEnd(8)} ${s.adapter}: live ${s.liveMs.toFixed(1)} ms / window, file ${s.fileMsPerWindow.toFixed(1)} ms / window (${s.windows} windows)`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
