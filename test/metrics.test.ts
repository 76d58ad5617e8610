import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { accuracyFromCounts, argmaxRows, confusionCounts } from '../src/kernels/metrics.js';
import { accuracyRef, argmaxRowsRef, confusionCountsRef } from '../src/ref/metrics.js';
import { makeRng, uniform } from './util/check.js';

const gpu = await getGpu();

describe('metrics', () => {
  for (const [n, c] of [
    [1, 7],
    [100, 7],
    [300, 3],
  ] as const) {
    it(`argmax, confusion counts and accuracy match the reference (N=${n}, C=${c})`, async () => {
      const rand = makeRng(n + c);
      const probs = uniform(rand, n * c, 0, 1);
      const labels = Uint32Array.from({ length: n }, () => Math.floor(rand() * c));
      const pb = gpu.upload(probs);
      const lb = gpu.upload(labels);
      const predb = gpu.upload(new Uint32Array(n));
      const cb = gpu.upload(new Uint32Array(c * c));
      const accb = gpu.upload(new Float32Array(1));
      run(gpu, (r) => {
        r.clear(cb);
        argmaxRows(r, predb, pb, { n, c });
        confusionCounts(r, cb, predb, lb, { n, c });
        // A second batch (the same one) accumulates into the same counts.
        confusionCounts(r, cb, predb, lb, { n, c });
        accuracyFromCounts(r, accb, cb, c);
      });
      const pred = argmaxRowsRef(probs, n, c);
      expect(Array.from(await gpu.readU32(predb, n))).toEqual(Array.from(pred));
      const counts = confusionCountsRef(pred, labels, c).map((v) => 2 * v);
      expect(Array.from(await gpu.readU32(cb, c * c))).toEqual(Array.from(counts));
      const acc = (await gpu.readF32(accb, 1))[0]!;
      console.log(`metrics N=${n} C=${c}: accuracy ${acc}, reference ${accuracyRef(counts, c)}`);
      expect(Math.abs(acc - accuracyRef(counts, c))).toBeLessThan(1e-6);
      for (const b of [pb, lb, predb, cb, accb]) b.destroy();
    });
  }

  it('argmax takes the first of tied maxima; an empty matrix has accuracy 0', async () => {
    const pb = gpu.upload(new Float32Array([0.2, 0.4, 0.4, 0.9, 0.05, 0.05]));
    const predb = gpu.upload(new Uint32Array(2));
    const cb = gpu.upload(new Uint32Array(9));
    const accb = gpu.upload(new Float32Array([7]));
    run(gpu, (r) => {
      argmaxRows(r, predb, pb, { n: 2, c: 3 });
      accuracyFromCounts(r, accb, cb, 3);
    });
    expect(Array.from(await gpu.readU32(predb, 2))).toEqual([1, 0]);
    expect((await gpu.readF32(accb, 1))[0]).toBe(0);
    for (const b of [pb, predb, cb, accb]) b.destroy();
  });
});
