// The parts of the web page that need no browser: the in-memory checkpoint reader
// the page uses (it must agree with the file reader of the command line on every
// file, good or broken), the page's config check, and `ser serve` — what it serves,
// what it refuses, and what it says without a run. The page itself runs in a real
// Chromium in test/browser.test.ts. No GPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, parseSafetensors, readSafetensors, writeSafetensors, type TensorEntry } from '../src/model/safetensors.js';
import { checkConfig } from '../src/web/session.js';
import { PageError } from '../src/web/errors.js';
import { resolveRun, startServer, type WebServer } from '../src/cli/serve.js';
import { DEFAULT_FRONTEND } from '../src/dsp/frontend.js';
import { Rng } from '../src/util/rng.js';
import { runSer, SER } from './util/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tensors = (): Record<string, TensorEntry> => ({
  'conv1.kernel': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, 0, -0, 1e-30]) },
  'bn1.moving_variance': { dtype: 'F32', shape: [3], data: Float32Array.of(0.75, 1, 2) },
  labels: { dtype: 'U32', shape: [2], data: Uint32Array.from([0, 4294967295]) },
});
const expected = Object.fromEntries(Object.entries(tensors()).map(([k, v]) => [k, { dtype: v.dtype, shape: v.shape }]));

/** The outcome of reading `bytes` either way: the tensors, or the error's class and message. */
async function outcomes(bytes: Uint8Array, exp?: typeof expected): Promise<[string, string]> {
  const p = join(dir, 'case.safetensors');
  writeFileSync(p, bytes);
  const show = (r: { tensors: Record<string, TensorEntry> }): string => JSON.stringify(Object.entries(r.tensors).map(([k, t]) => [k, t.dtype, t.shape, Array.from(t.data as ArrayLike<number | bigint>, String)]));
  const fromFile = await readSafetensors(p, exp).then(show, (e: Error) => `${e.name}: ${e.message}`);
  let inMemory: string;
  try {
    inMemory = show(parseSafetensors(p, bytes, exp));
  } catch (e) {
    inMemory = `${(e as Error).name}: ${(e as Error).message}`;
  }
  return [fromFile, inMemory];
}

describe('the page reads checkpoints as the command line does', () => {
  it('parseSafetensors (bytes) gives what readSafetensors (file) gives: the tensors, or the same CheckpointError', async () => {
    const good = join(dir, 'good.safetensors');
    await writeSafetensors(good, tensors(), { format: 'ser-webgpu' });
    const base = readFileSync(good);
    const [a, b] = await outcomes(base, expected);
    expect(b).toBe(a);
    expect(a).toContain('conv1.kernel');
    // A network that does not match the checkpoint (what a wrong config.json produces).
    const [c, d] = await outcomes(base, { ...expected, 'conv1.kernel': { dtype: 'F32', shape: [3, 3] } });
    expect(d).toBe(c);
    expect(d).toMatch(/CheckpointError: .*tensor conv1\.kernel: shape \[2, 3\], model expects \[3, 3\]/);
    // Mutations and truncations of every kind: both readers agree on each.
    const rng = new Rng(11);
    const headerEnd = 8 + Number(base.readBigUInt64LE(0));
    let rejected = 0;
    for (let n = 0; n < 400; n++) {
      let m = Buffer.from(base);
      const kind = rng.int(4);
      if (kind === 0) m = m.subarray(0, rng.int(m.length));
      else if (kind === 1) m[rng.int(headerEnd)] = rng.int(256);
      else if (kind === 2) m[8 + rng.int(headerEnd - 8)] = '0123456789-.e,[]{}":'.charCodeAt(rng.int(20));
      else m.writeUInt32LE(rng.nextU32(), rng.int(2) * 4);
      const [x, y] = await outcomes(m, rng.int(2) ? expected : undefined);
      expect(y, `mutation ${n} (kind ${kind})`).toBe(x);
      if (x.startsWith('CheckpointError')) rejected++;
    }
    expect(rejected).toBeGreaterThan(100);
  });

  it('parseSafetensors names the file and fails only with CheckpointError on a short buffer', () => {
    expect(() => parseSafetensors('best.safetensors', new Uint8Array(3))).toThrow(CheckpointError);
    expect(() => parseSafetensors('best.safetensors', new Uint8Array(3))).toThrow(/checkpoint best\.safetensors: file is 3 bytes/);
  });
});

describe("the page's config check", () => {
  const good = {
    format: 'ser-webgpu',
    classes: ['a', 'b', 'c'],
    width: 0.05,
    input: [3, 128, 60, 1],
    features: DEFAULT_FRONTEND,
    loss: { kind: 'focal', gamma: 2, alpha: [1, 1, 1] },
  };
  it('accepts what ser train writes and refuses each broken field with one sentence', () => {
    expect(checkConfig(good).classes).toEqual(['a', 'b', 'c']);
    const broken: [unknown, RegExp][] = [
      [null, /"format"/],
      [{ ...good, format: 'keras' }, /"format"/],
      [{ ...good, classes: ['a'] }, /"classes"/],
      [{ ...good, width: 0 }, /"width"/],
      [{ ...good, features: undefined }, /"features"/],
      [{ ...good, features: { ...DEFAULT_FRONTEND, nFft: 1000 } }, /"features": nFft must be a power of two/],
      [{ ...good, input: [3, 64, 60, 1] }, /"input" must be \[3, 128, 60, 1\]/],
      [{ ...good, loss: { alpha: [1] } }, /"loss\.alpha"/],
    ];
    for (const [cfg, msg] of broken) {
      let err: unknown = null;
      try {
        checkConfig(cfg);
      } catch (e) {
        err = e;
      }
      expect(err, String(msg)).toBeInstanceOf(PageError);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).toMatch(/^The served config\.json is not a usable ser-webgpu model config: .*\.$/);
    }
  });
});

/** GET (or another method) of a raw path, not normalised by a URL parser on this side. */
function get(url: string, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('latin1')));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('ser serve', () => {
  const run = join(dir, 'run');
  let web: WebServer;
  beforeAll(async () => {
    mkdirSync(run);
    writeFileSync(join(run, 'config.json'), JSON.stringify({ format: 'ser-webgpu' }));
    writeFileSync(join(run, 'best.safetensors'), 'weights');
    writeFileSync(join(run, 'last.safetensors'), 'LAST');
    writeFileSync(join(dir, 'secret.txt'), 'SECRET');
    web = await startServer(resolveRun(run), 0);
  }, 60_000);
  afterAll(() => web?.close());

  it('serves the page, its scripts with source maps, and the run’s config.json and checkpoint', async () => {
    const page = await get(web.url, '/');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('<script type="module" src="app.js">');
    const app = await get(web.url, '/app.js');
    expect(app.type).toMatch(/^text\/javascript/);
    // The bundle holds the WGSL of shaders/ as text: every line of the fused STFT shader (esbuild escapes non-ASCII ones).
    const lines = readFileSync('shaders/stft_mel.wgsl', 'utf8').split('\n').filter((l) => l.trim() && /^[\x20-\x7e]+$/.test(l) && !/["\\]/.test(l));
    expect(lines.length).toBeGreaterThan(50);
    for (const l of lines) expect(app.body, l).toContain(l);
    expect(app.body).not.toMatch(/from ['"]webgpu['"]/);
    expect((await get(web.url, '/app.js.map')).status).toBe(200);
    expect((await get(web.url, '/capture-worklet.js')).body).toMatch(/registerProcessor\(["']ser-capture["']/);
    expect((await get(web.url, '/model/config.json')).body).toBe('{"format":"ser-webgpu"}');
    expect((await get(web.url, '/model/best.safetensors')).body).toBe('weights');
    expect((await get(web.url, '/model/best.safetensors', 'HEAD')).status).toBe(200);
  });

  it('refuses paths outside the run folder, other files of it, listings and other methods', async () => {
    const cases: [string, number][] = [
      ['/model/../secret.txt', 404], // the URL parser resolves `..` to /secret.txt, which is not served
      ['/model/..%2f..%2fsecret.txt', 403],
      ['/model/..%5csecret.txt', 403],
      ['/%2e%2e/%2e%2e/etc/passwd', 404], // also resolved by the URL parser
      ['/model/last.safetensors', 404],
      ['/model/', 404],
      ['/model', 404],
      ['/shaders/stft_mel.wgsl', 404],
      ['/src/web/app.ts', 404],
      ['/model/best.safetensors%00', 403],
    ];
    for (const [path, status] of cases) {
      const r = await get(web.url, path);
      expect(r.status, path).toBe(status);
      expect(r.body, path).not.toContain('SECRET');
      expect(r.body, path).not.toContain('LAST');
    }
    expect((await get(web.url, '/', 'POST')).status).toBe(405);
  });

  it('`ser serve RUN --port 0` prints its URL, serves the page there and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [SER, 'serve', run, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((ok) => child.on('close', (code) => ok(code)));
    try {
      const url = await new Promise<string>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`no URL printed within 60 s: ${out}`)), 60_000);
        child.stdout.on('data', () => {
          const m = /^ser serve: (http:\/\/127\.0\.0\.1:\d+\/) {2}\(model: .*best\.safetensors\)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            ok(m[1]!);
          }
        });
      });
      expect((await get(url, '/')).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);

  it('without a run folder, says how to make one; with a bad one, says what is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ser-web-empty-'));
    try {
      const r = await runSer(['serve'], { cwd: empty, timeoutMs: 60_000 });
      expect(r.code).toBe(2);
      expect(r.errLines.join('\n')).toMatch(/^ser serve: no run to serve: runs\/demo does not exist yet\. Make it with `npm run demo`/);
      expect(() => resolveRun(empty)).toThrow(/has no best\.safetensors/);
      expect(() => resolveRun(join(empty, 'nope'))).toThrow(/no such run folder or checkpoint/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 90_000);
});
