import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { adamUpdate } from '../src/kernels/adam.js';
import { adamStepSize, adamUpdateRef } from '../src/ref/adam.js';
import { ADAM_TOL as TOL } from '../src/kernels/tolerances.js';
import { expectClose, makeRng, uniform } from './util/check.js';

const gpu = await getGpu();

describe('adam', () => {
  for (const n of [1, 257, 5000]) {
    it(`matches the reference over 10 steps with a new gradient each step (n=${n})`, async () => {
      const rand = makeRng(n);
      const hp = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-7 };
      const p0 = uniform(rand, n);
      const param = Float64Array.from(p0);
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      const pb = gpu.upload(p0);
      const mb = gpu.upload(new Float32Array(n));
      const vb = gpu.upload(new Float32Array(n));
      const gb = gpu.upload(new Float32Array(n));
      for (let step = 1; step <= 10; step++) {
        // Gradients span orders of magnitude, as real ones do; one step uses exact zeros.
        const g = step === 4 ? new Float32Array(n) : uniform(rand, n).map((x, i) => x * 10 ** ((i % 5) - 3));
        gpu.device.queue.writeBuffer(gb, 0, g);
        run(gpu, (r) => adamUpdate(r, pb, gb, mb, vb, { n, ...hp, step }));
        adamUpdateRef(param, g, m, v, { ...hp, step });
      }
      expectClose(`adam param n=${n}`, await gpu.readF32(pb, n), param, TOL.param);
      expectClose(`adam m n=${n}`, await gpu.readF32(mb, n), m, TOL.moments);
      expectClose(`adam v n=${n}`, await gpu.readF32(vb, n), v, TOL.moments);
      for (const b of [pb, mb, vb, gb]) b.destroy();
    });
  }

  it('first step moves every parameter by about lr against the gradient sign (Keras behaviour)', () => {
    const param = new Float64Array([0, 0, 0]);
    adamUpdateRef(param, [3, -0.001, 1e-3], new Float64Array(3), new Float64Array(3), { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-7, step: 1 });
    for (const [i, sign] of [
      [0, -1],
      [1, 1],
      [2, -1],
    ] as const)
      expect(param[i]! * sign).toBeCloseTo(0.1, 3);
    expect(adamStepSize(0.1, 0.9, 0.999, 1)).toBeCloseTo((0.1 * Math.sqrt(0.001)) / 0.1, 12);
  });
});
