// GPU faults a user can meet in a long run — the device lost (driver reset, GPU
// removed), a buffer beyond the device's limits (too large a --batch) — must end in
// a GpuError with a clear message at the next sync, never a hang or a crash; the
// CLI must print it on one line; and a training run must say where its last
// completed epoch is. Each test uses a private device, so destroying it leaves the
// shared one alone.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpu, GpuError } from '../src/kernels/gpu.js';
import { reportError } from '../src/cli/main.js';
import { Ser3dCnn } from '../src/model/ser3dcnn.js';
import { Engine } from '../src/train/engine.js';
import { fit, type Dataset } from '../src/train/fit.js';
import { KERAS_CALLBACKS } from '../src/train/callbacks.js';
import { readSafetensors } from '../src/model/safetensors.js';
import { Rng } from '../src/util/rng.js';

/** Fails a test that would otherwise hang. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hang)`)), ms))]);
}

/** What reportError prints, and its exit code. */
function reported(command: string, e: unknown): { lines: string[]; code: number } {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(...a.map(String).join(' ').split('\n')));
  try {
    return { code: reportError(command, e), lines };
  } finally {
    spy.mockRestore();
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('GPU faults', () => {
  it('a destroyed device: sync and readback reject with a device-lost GpuError, printed on one line', async () => {
    const gpu = await createGpu();
    const buf = gpu.upload(Float32Array.of(1, 2, 3, 4));
    gpu.device.destroy();
    const e1 = await within(gpu.sync(), 10_000, 'sync').catch((e: unknown) => e);
    const e2 = await within(gpu.readF32(buf, 4), 10_000, 'readF32').catch((e: unknown) => e);
    for (const e of [e1, e2]) {
      expect(e).toBeInstanceOf(GpuError);
      expect((e as GpuError).kind).toBe('device-lost');
      expect((e as Error).message).toMatch(/^GPU device lost \(destroyed: .*\)\. Work since the last checkpoint is gone; restart the command\.$/);
    }
    const r = reported('predict', e1);
    console.log(r.lines.join('\n'));
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([`ser predict: ${(e1 as Error).message}`]);
  });

  it('a buffer larger than the device allows: a GpuError before anything is allocated; the CLI line suggests a smaller --batch', async () => {
    const gpu = await createGpu();
    const max = gpu.limits.maxBufferSize;
    let e: unknown = null;
    try {
      gpu.pool.acquire(max + 1);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(GpuError);
    expect((e as GpuError).kind).toBe('out-of-memory');
    expect(gpu.pool.created).toBe(0);
    // Nothing reached the device: the next sync is clean and the device stays usable.
    await within(gpu.sync(), 10_000, 'sync');
    const r = reported('train', e);
    console.log(r.lines.join('\n'));
    expect(r.code).toBe(1);
    expect(r.lines.length).toBe(1);
    expect(r.lines[0]).toMatch(/^ser train: pooled: a \d+ MiB buffer exceeds the device's limit of \d+ MiB — try a smaller --batch$/);
    gpu.destroy();
  });

  it('an out-of-memory GpuError keeps its hint and loses its line breaks', () => {
    const e = new GpuError('GPU out-of-memory error: Out of memory allocating 8 GiB.\n - While calling [Device].CreateBuffer().\n — try a smaller --batch.', 'out-of-memory');
    const r = reported('train', e);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual(['ser train: GPU out-of-memory error: Out of memory allocating 8 GiB. - While calling [Device].CreateBuffer(). — try a smaller --batch.']);
  });

  it('device lost during training: the error names the last completed epoch checkpoint, which stays readable', async () => {
    const gpu = await createGpu();
    const classes = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const input: [number, number, number, number] = [1, 16, 16, 1];
    const size = 16 * 16;
    const rng = new Rng(3);
    const data = (n: number): Dataset => ({ x: Float32Array.from({ length: n * size }, () => rng.next()), y: Uint32Array.from({ length: n }, () => rng.int(7)) });
    const model = new Ser3dCnn(gpu, { classes, input, width: 0.05 }, 1);
    const engine = new Engine(gpu, model, 8, new Float32Array(7).fill(1 / 7), 2, undefined, 1);
    const out = mkdtempSync(join(tmpdir(), 'ser-lost-'));
    dirs.push(out);
    const last = join(out, 'last.safetensors');
    // Lose the device as soon as the first epoch's checkpoint is on disk.
    const poll = setInterval(() => {
      if (existsSync(join(out, 'state.json'))) {
        clearInterval(poll);
        gpu.device.destroy();
      }
    }, 5);
    const run = fit(gpu, model, engine, data(24), data(8), { out, epochs: 200, batch: 8, seed: 1, lr: 1e-3, callbacks: KERAS_CALLBACKS, resume: false, quiet: true });
    const e = await within(run, 60_000, 'fit').catch((err: unknown) => err);
    clearInterval(poll);
    console.log(String((e as Error).message));
    expect(e).toBeInstanceOf(GpuError);
    expect((e as GpuError).kind).toBe('device-lost');
    expect((e as Error).message).toContain(`The last completed epoch is saved in ${last}; continue with --resume.`);
    const ck = await readSafetensors(last);
    expect(Object.keys(ck.tensors).some((n) => n.endsWith('.adam_m'))).toBe(true);
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });
});
