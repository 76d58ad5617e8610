import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { Ser3dCnn } from '../src/model/ser3dcnn.js';
import { Engine, NonFiniteLossError } from '../src/train/engine.js';
import { fit, TrainingInterrupted, type Dataset } from '../src/train/fit.js';
import { KERAS_CALLBACKS } from '../src/train/callbacks.js';
import { readSafetensors } from '../src/model/safetensors.js';
import { loadModel, saveModel, snapshot } from '../src/model/checkpoint.js';
import { Rng } from '../src/util/rng.js';

const gpu = await getGpu();
const CLASSES = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const INPUT: [number, number, number, number] = [1, 16, 16, 1];
const size = INPUT.reduce((a, b) => a * b, 1);

function dataset(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const y = Uint32Array.from({ length: n }, () => rng.int(CLASSES.length));
  // Class-dependent brightness so there is something to learn.
  const x = Float32Array.from({ length: n * size }, (_, i) => rng.next() * 0.5 + y[Math.floor(i / size)]! / CLASSES.length);
  return { x, y };
}

/** initSeed seeds the weights; the run's seed (dropout, shuffling) stays 4 as a resumed command line keeps it. */
function setup(initSeed = 4): { model: Ser3dCnn; engine: Engine } {
  const model = new Ser3dCnn(gpu, { classes: CLASSES, input: INPUT, width: 0.05 }, initSeed);
  const engine = new Engine(gpu, model, 8, new Float32Array(CLASSES.length).fill(1 / 7), 2, undefined, 4);
  return { model, engine };
}

const opts = (out: string, epochs: number, resume = false) => ({ out, epochs, batch: 8, seed: 4, lr: 1e-3, callbacks: KERAS_CALLBACKS, resume, quiet: true });

describe('checkpoints, resume and failures', () => {
  const train = dataset(20, 1);
  const val = dataset(8, 2);

  it('--resume after an interrupted run reproduces the uninterrupted run bit for bit', async () => {
    const a = mkdtempSync(join(tmpdir(), 'ser-resume-a-'));
    const s1 = setup();
    await fit(gpu, s1.model, s1.engine, train, val, opts(a, 3));

    const b = mkdtempSync(join(tmpdir(), 'ser-resume-b-'));
    const s2 = setup();
    await fit(gpu, s2.model, s2.engine, train, val, opts(b, 2));
    const s3 = setup(99); // a fresh process would start from other weights; resume must overwrite them all
    const r = await fit(gpu, s3.model, s3.engine, train, val, opts(b, 3, true));
    expect(r.history.length).toBe(3);

    const ta = await readSafetensors(join(a, 'last.safetensors'));
    const tb = await readSafetensors(join(b, 'last.safetensors'));
    const names = Object.keys(ta.tensors);
    expect(names.length).toBeGreaterThan(40);
    let differing = 0;
    for (const name of names) {
      const x = ta.tensors[name]!.data as Float32Array;
      const y = tb.tensors[name]!.data as Float32Array;
      if (x.some((v, i) => v !== y[i])) differing++;
    }
    expect(differing).toBe(0);
    const ha = JSON.parse(readFileSync(join(a, 'history.json'), 'utf8'));
    const hb = JSON.parse(readFileSync(join(b, 'history.json'), 'utf8'));
    expect(hb.map((h: { val_loss: number }) => h.val_loss)).toEqual(ha.map((h: { val_loss: number }) => h.val_loss));
  });

  it('a checkpoint round-trips every tensor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-ckpt-'));
    const s1 = setup(5);
    await saveModel(gpu, s1.model, join(dir, 'm.safetensors'));
    const s2 = setup(6);
    await loadModel(gpu, s2.model, join(dir, 'm.safetensors'));
    const a = await snapshot(gpu, s1.model);
    const b = await snapshot(gpu, s2.model);
    for (const k of Object.keys(a)) expect(Array.from(b[k]!.data as Float32Array), k).toEqual(Array.from(a[k]!.data as Float32Array));
  });

  it('SIGINT stops at a step boundary and saves the current weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-sigint-'));
    const s = setup();
    const pending = fit(gpu, s.model, s.engine, train, val, opts(dir, 50));
    // Signal as soon as fit() listens (a fixed delay races with its start on a loaded machine).
    const poll = setInterval(() => {
      if (process.listenerCount('SIGINT') > 0) {
        clearInterval(poll);
        process.emit('SIGINT', 'SIGINT');
      }
    }, 5);
    await expect(pending).rejects.toBeInstanceOf(TrainingInterrupted);
    expect(existsSync(join(dir, 'interrupted.safetensors'))).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('a NaN loss stops training with the step and the first offending tensor', async () => {
    const s = setup();
    // Poison one weight of the last layer: the logits and the loss become NaN.
    const w = s.model.params.find((p) => p.name === 'dense3.kernel')!;
    gpu.device.queue.writeBuffer(w.buffer, 8, new Float32Array([Number.NaN]));
    const x = new Float32Array(4 * size).fill(0.5);
    const err = await s.engine.trainStep(x, new Uint32Array([0, 1, 2, 3])).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect(err.message).toMatch(/step 1; first offending tensor: \w+/);
    expect(err.message).toMatch(/dense\d\.kernel|bn\d\.\w+|conv\d\.\w+/);
  });
});
