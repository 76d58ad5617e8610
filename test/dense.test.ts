import { describe, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { denseBackwardInput, denseBackwardWeight, denseForward, type DenseShape } from '../src/kernels/dense.js';
import { denseBackwardRef, denseForwardRef } from '../src/ref/dense.js';
import { DENSE_TOL } from '../src/kernels/tolerances.js';
import { dot, expectClose, expectGradient, makeRng, uniform, type Tol } from './util/check.js';

const gpu = await getGpu();

const TOL: Record<string, Tol> = {
  ...DENSE_TOL,
  refGradient: { atol: 1e-8, rtol: 1e-6 },
};

const SHAPES: [string, DenseShape][] = [
  ['batch 1', { m: 1, k: 5, n: 3 }],
  ['the output layer, K 512 → N 7', { m: 8, k: 512, n: 7 }],
  ['512 → 256 at batch 32', { m: 32, k: 512, n: 256 }],
  ['no size a multiple of a tile', { m: 33, k: 37, n: 65 }],
];

describe('dense', () => {
  for (const [name, s] of SHAPES) {
    it(`forward, backward_input and backward_weight match the reference: ${name}`, async () => {
      const rand = makeRng(s.m * 1000 + s.k + s.n);
      const x = uniform(rand, s.m * s.k);
      const w = uniform(rand, s.k * s.n);
      const b = uniform(rand, s.n);
      const dy = uniform(rand, s.m * s.n);
      const dx0 = uniform(rand, x.length);
      const dw0 = uniform(rand, w.length);
      const db0 = uniform(rand, b.length);
      const [xb, wb, bb, dyb, dxb, dwb, dbb] = [x, w, b, dy, dx0, dw0, db0].map((a) => gpu.upload(a));
      const yb = gpu.upload(new Float32Array(s.m * s.n).fill(Number.NaN));
      const ynb = gpu.upload(new Float32Array(s.m * s.n).fill(Number.NaN));
      // The first writer of a gradient overwrites it: into a buffer of NaNs.
      const dxFirst = gpu.upload(new Float32Array(x.length).fill(Number.NaN));
      run(gpu, (r) => {
        denseForward(r, yb!, xb!, wb!, bb!, s);
        denseForward(r, ynb, xb!, wb!, null, s);
        denseBackwardInput(r, dxb!, dyb!, wb!, s);
        denseBackwardInput(r, dxFirst, dyb!, wb!, s, false);
        denseBackwardWeight(r, dwb!, dbb!, dyb!, xb!, s);
      });
      expectClose(`dense forward ${name}`, await gpu.readF32(yb, s.m * s.n), denseForwardRef(x, w, b, s), TOL.forward!);
      expectClose(`dense forward without bias ${name}`, await gpu.readF32(ynb, s.m * s.n), denseForwardRef(x, w, null, s), TOL.forward!);
      const g = denseBackwardRef(dy, x, w, s);
      expectClose(`dense backward_input ${name}`, await gpu.readF32(dxb!, x.length), g.dx.map((v, i) => v + dx0[i]!), TOL.backward!);
      expectClose(`dense backward_input, first writer ${name}`, await gpu.readF32(dxFirst, x.length), g.dx, TOL.backward!);
      dxFirst.destroy();
      expectClose(`dense backward_weight dw ${name}`, await gpu.readF32(dwb!, w.length), g.dw.map((v, i) => v + dw0[i]!), TOL.backward!);
      expectClose(`dense backward_weight db ${name}`, await gpu.readF32(dbb!, b.length), g.db.map((v, i) => v + db0[i]!), TOL.backward!);
      for (const buf of [xb, wb, bb, dyb, dxb, dwb, dbb, yb, ynb]) buf!.destroy();
    });
  }

  it('reference gradients match finite differences', () => {
    const s: DenseShape = { m: 3, k: 4, n: 5 };
    const rand = makeRng(21);
    const x = uniform(rand, s.m * s.k);
    const w = uniform(rand, s.k * s.n);
    const b = uniform(rand, s.n);
    const r = uniform(rand, s.m * s.n);
    const g = denseBackwardRef(r, x, w, s);
    expectGradient('dense dx', (xs) => dot(denseForwardRef(xs, w, b, s), r), x, g.dx, TOL.refGradient!);
    expectGradient('dense dw', (ws) => dot(denseForwardRef(x, ws, b, s), r), w, g.dw, TOL.refGradient!);
    expectGradient('dense db', (bs) => dot(denseForwardRef(x, w, bs, s), r), b, g.db, TOL.refGradient!);
  });
});
