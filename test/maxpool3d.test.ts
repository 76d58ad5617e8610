import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { maxpool3dBackward, maxpool3dForward, maxpool3dOutShape, type Maxpool3dShape } from '../src/kernels/maxpool3d.js';
import { maxpool3dBackwardRef, maxpool3dForwardRef } from '../src/ref/maxpool3d.js';
import { MAXPOOL3D_TOL } from '../src/kernels/tolerances.js';
import { dot, expectClose, expectGradient, makeRng, uniform, type Tol } from './util/check.js';

const gpu = await getGpu();

const TOL: Record<string, Tol> = {
  ...MAXPOOL3D_TOL,
  refGradient: { atol: 1e-8, rtol: 1e-6 },
};

const SHAPES: [string, Maxpool3dShape][] = [
  ['batch 1, 1×1×1 spatial, window 1', { n: 1, d: 1, h: 1, w: 1, c: 3, pd: 1, ph: 1, pw: 1 }],
  ['1×2×2 on odd H and W (W 15 → 7)', { n: 2, d: 3, h: 5, w: 15, c: 7, pd: 1, ph: 2, pw: 2 }],
  ['2×2×2 with remainders in every dimension', { n: 1, d: 5, h: 4, w: 7, c: 33, pd: 2, ph: 2, pw: 2 }],
  ['1×2×2 to a 1×1 map, many channels', { n: 3, d: 1, h: 2, w: 3, c: 300, pd: 1, ph: 2, pw: 2 }],
];

async function runPool(x: Float32Array, dy: Float32Array, dx0: Float32Array, s: Maxpool3dShape) {
  const count = dy.length;
  const xb = gpu.upload(x);
  const yb = gpu.upload(new Float32Array(count));
  const ab = gpu.upload(new Uint32Array(count));
  const dyb = gpu.upload(dy);
  const dxb = gpu.upload(dx0);
  run(gpu, (r) => {
    maxpool3dForward(r, yb, ab, xb, s);
    maxpool3dBackward(r, dxb, dyb, ab, s);
  });
  const out = { y: await gpu.readF32(yb, count), argmax: await gpu.readU32(ab, count), dx: await gpu.readF32(dxb, x.length) };
  for (const b of [xb, yb, ab, dyb, dxb]) b.destroy();
  return out;
}

describe('maxpool3d', () => {
  for (const [name, s] of SHAPES) {
    it(`forward, argmax and backward match the reference: ${name}`, async () => {
      const { od, oh, ow } = maxpool3dOutShape(s);
      const count = s.n * od * oh * ow * s.c;
      const rand = makeRng(s.c + s.w);
      const x = uniform(rand, s.n * s.d * s.h * s.w * s.c);
      const dy = uniform(rand, count);
      const dx0 = uniform(rand, x.length);
      const got = await runPool(x, dy, dx0, s);
      const ref = maxpool3dForwardRef(x, s);
      expectClose(`maxpool3d forward ${name}`, got.y, ref.y, TOL.forward!);
      expect(Array.from(got.argmax)).toEqual(Array.from(ref.argmax));
      const want = maxpool3dBackwardRef(dy, ref.argmax, s).map((v, i) => v + dx0[i]!);
      expectClose(`maxpool3d backward ${name}`, got.dx, want, TOL.backward!);
    });
  }

  it('takes the first maximum on ties and routes nothing to dropped remainders', async () => {
    const s: Maxpool3dShape = { n: 1, d: 1, h: 3, w: 3, c: 2, pd: 1, ph: 2, pw: 2 };
    const x = new Float32Array(18).fill(1);
    const got = await runPool(x, new Float32Array([5, 6]), new Float32Array(18), s);
    expect(Array.from(got.argmax)).toEqual([0, 1]);
    expect(Array.from(got.dx)).toEqual([5, 6, ...new Array(16).fill(0)]);
  });

  it('reference gradient matches finite differences', () => {
    const s: Maxpool3dShape = { n: 1, d: 2, h: 3, w: 5, c: 2, pd: 1, ph: 2, pw: 2 };
    const rand = makeRng(4);
    const x = uniform(rand, s.d * s.h * s.w * s.c);
    const { y, argmax } = maxpool3dForwardRef(x, s);
    const r = uniform(rand, y.length);
    expectGradient('maxpool3d dx', (xs) => dot(maxpool3dForwardRef(xs, s).y, r), x, maxpool3dBackwardRef(r, argmax, s), TOL.refGradient!);
  });
});
