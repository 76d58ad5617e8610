import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { fill } from '../src/kernels/fill.js';
import { reluBackwardRef, reluForwardRef } from '../src/ref/relu.js';
import { RELU_TOL } from '../src/kernels/tolerances.js';
import { dot, expectClose, expectGradient, makeRng, uniform, type Tol } from './util/check.js';

const gpu = await getGpu();

const TOL: Record<string, Tol> = {
  ...RELU_TOL,
  refGradient: { atol: 1e-8, rtol: 1e-6 },
};

describe('relu', () => {
  it('forward and backward match the reference; backward adds into dx, or overwrites it as a first writer (sizes 1, 255, 257, 4099)', async () => {
    const rand = makeRng(1);
    for (const n of [1, 255, 257, 4099]) {
      const x = uniform(rand, n);
      const dy = uniform(rand, n);
      const dx0 = uniform(rand, n);
      const xb = gpu.upload(x);
      const yb = gpu.upload(new Float32Array(n).fill(Number.NaN));
      const dyb = gpu.upload(dy);
      const dxb = gpu.upload(dx0);
      // The first writer of a gradient overwrites it: into a buffer of NaNs.
      const dxFirst = gpu.upload(new Float32Array(n).fill(Number.NaN));
      run(gpu, (r) => {
        reluForward(r, yb, xb, n);
        reluBackward(r, dxb, dyb, yb, n);
        reluBackward(r, dxFirst, dyb, yb, n, false);
      });
      const y = reluForwardRef(x);
      expectClose(`relu forward n=${n}`, await gpu.readF32(yb, n), y, TOL.forward!);
      const g = reluBackwardRef(dy, y);
      expectClose(`relu backward n=${n}`, await gpu.readF32(dxb, n), g.map((v, i) => v + dx0[i]!), TOL.backward!);
      expectClose(`relu backward, first writer n=${n}`, await gpu.readF32(dxFirst, n), g, TOL.backward!);
      for (const b of [xb, yb, dyb, dxb, dxFirst]) b.destroy();
    }
  });

  it('reference gradient matches finite differences away from the kink', () => {
    const rand = makeRng(2);
    const x = Float64Array.from(uniform(rand, 50), (v) => (Math.abs(v) < 0.05 ? v + 0.1 : v));
    const r = uniform(rand, 50);
    const grad = reluBackwardRef(r, reluForwardRef(x));
    expectGradient('relu dx', (xs) => dot(reluForwardRef(xs), r), x, grad, TOL.refGradient!);
  });

  it('fill sets every element, including past a workgroup', async () => {
    const n = 300;
    const b = gpu.upload(new Float32Array(n));
    run(gpu, (r) => fill(r, b, n, 1.5));
    const got = await gpu.readF32(b, n);
    expect(got.every((v) => v === 1.5)).toBe(true);
    b.destroy();
  });
});
