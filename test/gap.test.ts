import { describe, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { gapBackward, gapForward, type GapShape } from '../src/kernels/gap.js';
import { gapBackwardRef, gapForwardRef } from '../src/ref/gap.js';
import { GAP_TOL } from '../src/kernels/tolerances.js';
import { dot, expectClose, expectGradient, makeRng, uniform, type Tol } from './util/check.js';

const gpu = await getGpu();

const TOL: Record<string, Tol> = {
  ...GAP_TOL,
  refGradient: { atol: 1e-8, rtol: 1e-6 },
};

const SHAPES: [string, GapShape][] = [
  ['batch 1, 1×1×1 spatial', { n: 1, spatial: 1, c: 5 }],
  ['3×8×3 spatial, 512 channels', { n: 2, spatial: 72, c: 512 }],
  ['odd sizes past a workgroup', { n: 3, spatial: 37, c: 101 }],
];

describe('gap', () => {
  for (const [name, s] of SHAPES) {
    it(`forward and backward match the reference: ${name}`, async () => {
      const rand = makeRng(s.c);
      const x = uniform(rand, s.n * s.spatial * s.c);
      const dy = uniform(rand, s.n * s.c);
      const dx0 = uniform(rand, x.length);
      const xb = gpu.upload(x);
      const yb = gpu.upload(new Float32Array(dy.length));
      const dyb = gpu.upload(dy);
      const dxb = gpu.upload(dx0);
      // The first writer of a gradient overwrites it: into a buffer of NaNs.
      const dxFirst = gpu.upload(new Float32Array(x.length).fill(Number.NaN));
      run(gpu, (r) => {
        gapForward(r, yb, xb, s);
        gapBackward(r, dxb, dyb, s);
        gapBackward(r, dxFirst, dyb, s, false);
      });
      expectClose(`gap forward ${name}`, await gpu.readF32(yb, dy.length), gapForwardRef(x, s), TOL.forward!);
      const want = gapBackwardRef(dy, s).map((v, i) => v + dx0[i]!);
      expectClose(`gap backward ${name}`, await gpu.readF32(dxb, x.length), want, TOL.backward!);
      expectClose(`gap backward, first writer ${name}`, await gpu.readF32(dxFirst, x.length), gapBackwardRef(dy, s), TOL.backward!);
      for (const b of [xb, yb, dyb, dxb, dxFirst]) b.destroy();
    });
  }

  it('reference gradient matches finite differences', () => {
    const s: GapShape = { n: 2, spatial: 6, c: 3 };
    const rand = makeRng(9);
    const x = uniform(rand, s.n * s.spatial * s.c);
    const r = uniform(rand, s.n * s.c);
    expectGradient('gap dx', (xs) => dot(gapForwardRef(xs, s), r), x, gapBackwardRef(r, s), TOL.refGradient!);
  });
});
