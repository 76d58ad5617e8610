import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { BN_RELU_MAXPOOL_NONE, bnReluMaxpoolBackward, bnReluMaxpoolForward, type BnReluMaxpoolShape } from '../src/kernels/bn_relu_maxpool.js';
import { batchnormForwardInference, batchnormForwardTrain, batchnormStatistics } from '../src/kernels/batchnorm.js';
import { reluForward } from '../src/kernels/relu.js';
import { dropoutBackward, dropoutForward } from '../src/kernels/dropout.js';
import { maxpool3dForward, maxpool3dOutShape } from '../src/kernels/maxpool3d.js';
import { bnReluMaxpoolRef } from '../src/ref/bn_relu_maxpool.js';
import { BN_RELU_MAXPOOL_TOL } from '../src/kernels/tolerances.js';
import { dot, expectClose, expectGradient, makeRng, normal, uniform, type Tol } from './util/check.js';

const gpu = await getGpu();

const TOL: Record<string, Tol> = {
  ...BN_RELU_MAXPOOL_TOL,
  refGradient: { atol: 1e-7, rtol: 1e-5 },
};

// Both directions take 4 channels per vec4 where C % 4 == 0 (one at a time otherwise)
// and 4 output positions along W per invocation; the backward's last window along an
// axis also takes the elements that floor pooling leaves out.
const SHAPES: [string, BnReluMaxpoolShape][] = [
  ['batch 1, 1×2×2 to a 1×1 map', { n: 1, d: 1, h: 2, w: 2, c: 4, pd: 1, ph: 2, pw: 2 }],
  ['odd H and W drop a row and a column', { n: 2, d: 3, h: 5, w: 7, c: 12, pd: 1, ph: 2, pw: 2 }],
  ['2×2×2 windows, channels not a multiple of 4', { n: 3, d: 4, h: 4, w: 6, c: 7, pd: 2, ph: 2, pw: 2 }],
  ['one channel, output width 5 (not a multiple of the 4 positions per invocation)', { n: 2, d: 3, h: 3, w: 11, c: 1, pd: 1, ph: 2, pw: 2 }],
  ['8 channels (vec4), 1×3×1 windows, output width 9', { n: 3, d: 2, h: 7, w: 9, c: 8, pd: 1, ph: 3, pw: 1 }],
  ['5 channels: a vec4 group and one of 1, scalar path, pooled count odd', { n: 1, d: 3, h: 6, w: 10, c: 5, pd: 3, ph: 2, pw: 2 }],
  ['2×2×2 windows leaving a slab, a row and a column out (and their corners)', { n: 2, d: 5, h: 5, w: 9, c: 6, pd: 2, ph: 2, pw: 2 }],
];

function count(s: BnReluMaxpoolShape): number {
  const { od, oh, ow } = maxpool3dOutShape(s);
  return s.n * od * oh * ow * s.c;
}

/** Inputs with an offset mean, and gammas of both signs: a negative gamma turns the window's minimum of x into its maximum. */
function inputs(s: BnReluMaxpoolShape, seed: number) {
  const rand = makeRng(seed);
  const xLen = s.n * s.d * s.h * s.w * s.c;
  return {
    x: normal(rand, xLen, 1, 2),
    gamma: uniform(rand, s.c, -1.5, 1.5),
    beta: uniform(rand, s.c, -0.5, 0.5),
    runMean: uniform(rand, s.c),
    runVar: uniform(rand, s.c, 0.5, 2),
    dy: uniform(rand, count(s)),
  };
}

describe('bn_relu_maxpool (fused batch norm → ReLU → max pooling)', () => {
  let closed = 0; // pooled outputs whose ReLU closed, over the training cases
  for (const [name, s] of SHAPES) {
    it(`training forward and backward match the float64 composition, and the forward equals the unfused GPU ops bit for bit: ${name}`, async () => {
      const a = inputs(s, s.c + s.w);
      const xLen = a.x.length;
      const c = s.c;
      const bn = { m: xLen / c, c };
      const up = (d: Float32Array) => gpu.upload(d);
      const [x, gamma, beta, dy] = [up(a.x), up(a.gamma), up(a.beta), up(a.dy)];
      const [rm, rv, rm2, rv2] = [up(a.runMean), up(a.runVar), up(a.runMean), up(a.runVar)];
      const z = (n: number) => gpu.upload(new Float32Array(n));
      const [y, argmax, mean, invstd, dx, dgamma, dbeta, dgamma2, dbeta2] = [z(count(s)), z(count(s)), z(c), z(c), z(xLen), z(c), z(c), z(c), z(c)];
      const dxFirst = gpu.upload(new Float32Array(xLen).fill(NaN));
      const [ySep, mean2, invstd2, bnOut, reluOut, argmax2] = [z(count(s)), z(c), z(c), z(xLen), z(xLen), z(count(s))];
      run(gpu, (r) => {
        batchnormStatistics(r, mean, invstd, x, rm, rv, bn);
        bnReluMaxpoolForward(r, y, argmax, x, gamma, beta, mean, invstd, s, false);
        bnReluMaxpoolBackward(r, dx, dgamma, dbeta, dy, argmax, x, mean, invstd, gamma, s);
        // The first writer of a gradient overwrites it: into a buffer of NaNs.
        bnReluMaxpoolBackward(r, dxFirst, dgamma2, dbeta2, dy, argmax, x, mean, invstd, gamma, s, false);
        batchnormForwardTrain(r, bnOut, mean2, invstd2, x, gamma, beta, rm2, rv2, bn);
        reluForward(r, reluOut, bnOut, xLen);
        maxpool3dForward(r, ySep, argmax2, reluOut, s);
      });
      const got = {
        y: await gpu.readF32(y, count(s)),
        ySep: await gpu.readF32(ySep, count(s)),
        dx: await gpu.readF32(dx, xLen),
        dxFirst: await gpu.readF32(dxFirst, xLen),
        argmax: await gpu.readU32(argmax, count(s)),
        dgamma: await gpu.readF32(dgamma, c),
        dbeta: await gpu.readF32(dbeta, c),
        runMean: await gpu.readF32(rm, c),
        runMean2: await gpu.readF32(rm2, c),
      };
      const ref = bnReluMaxpoolRef(a.x, a.gamma, a.beta, a.runMean, a.runVar, s, true);
      expect(Array.from(got.y)).toEqual(Array.from(got.ySep));
      expect(Array.from(got.runMean)).toEqual(Array.from(got.runMean2));
      expectClose(`forward ${name}`, got.y, ref.y, TOL.forward!);
      const g = ref.backward(a.dy);
      expectClose(`dx ${name}`, got.dx, g.dx, TOL.backward!);
      expectClose(`dgamma ${name}`, got.dgamma, g.dgamma, TOL.backward!);
      expectClose(`dbeta ${name}`, got.dbeta, g.dbeta, TOL.backward!);
      expect(Array.from(got.dxFirst)).toEqual(Array.from(got.dx));
      // argmax: an element of the output's channel where the ReLU was open (dx checks
      // which one), NONE where it closed.
      const consistent = got.argmax.filter((at, o) => (got.y[o]! > 0 ? at < xLen && at % c === o % c : at === BN_RELU_MAXPOOL_NONE));
      expect(consistent.length).toBe(count(s));
      closed += got.argmax.filter((at) => at === BN_RELU_MAXPOOL_NONE).length;
      await gpu.sync();
    });
  }

  it('the shapes above close the ReLU on some windows (so the backward skipped them)', () => expect(closed).toBeGreaterThan(10));

  for (const [name, s] of [SHAPES[1]!, SHAPES[2]!]) it(`inference forward (running statistics) matches the float64 composition and the unfused GPU ops: ${name}`, async () => {
    const a = inputs(s, 99);
    const xLen = a.x.length;
    const up = (d: Float32Array) => gpu.upload(d);
    const [x, gamma, beta, rm, rv] = [up(a.x), up(a.gamma), up(a.beta), up(a.runMean), up(a.runVar)];
    const z = (n: number) => gpu.upload(new Float32Array(n));
    const [y, argmax, ySep, argmax2, bnOut, reluOut] = [z(count(s)), z(count(s)), z(count(s)), z(count(s)), z(xLen), z(xLen)];
    run(gpu, (r) => {
      bnReluMaxpoolForward(r, y, argmax, x, gamma, beta, rm, rv, s, true);
      batchnormForwardInference(r, bnOut, x, gamma, beta, rm, rv, { m: xLen / s.c, c: s.c });
      reluForward(r, reluOut, bnOut, xLen);
      maxpool3dForward(r, ySep, argmax2, reluOut, s);
    });
    const got = await gpu.readF32(y, count(s));
    expect(Array.from(got)).toEqual(Array.from(await gpu.readF32(ySep, count(s))));
    expectClose('inference forward', got, bnReluMaxpoolRef(a.x, a.gamma, a.beta, a.runMean, a.runVar, s, false).y, TOL.forward!);
  });

  // The fused dropout is the dropout op, applied in the same pass: the same masks, values and gradients, bit for bit.
  for (const [name, s] of [SHAPES[1]!, SHAPES[2]!, SHAPES[6]!]) it(`with the block's dropout fused, forward and backward equal the unfused ops bit for bit: ${name}`, async () => {
    const a = inputs(s, 5 * s.c + s.w);
    const xLen = a.x.length;
    const c = s.c;
    const drop = { n: count(s), rate: 0.3, seed: 1234 + s.c, step: 7 };
    const fused: BnReluMaxpoolShape = { ...s, dropout: { rate: drop.rate, seed: drop.seed, step: drop.step } };
    const up = (d: Float32Array) => gpu.upload(d);
    const [x, gamma, beta, dy, rm, rv] = [up(a.x), up(a.gamma), up(a.beta), up(a.dy), up(a.runMean), up(a.runVar)];
    const z = (n: number) => gpu.upload(new Float32Array(n));
    const [mean, invstd] = [z(c), z(c)];
    const [y1, am1, dx1, dg1, db1] = [z(count(s)), z(count(s)), z(xLen), z(c), z(c)];
    const [y0, am0, y2, dyPre, dx2, dg2, db2] = [z(count(s)), z(count(s)), z(count(s)), z(count(s)), z(xLen), z(c), z(c)];
    run(gpu, (r) => {
      batchnormStatistics(r, mean, invstd, x, rm, rv, { m: xLen / c, c });
      bnReluMaxpoolForward(r, y1, am1, x, gamma, beta, mean, invstd, fused, false);
      bnReluMaxpoolBackward(r, dx1, dg1, db1, dy, am1, x, mean, invstd, gamma, fused, false);
      bnReluMaxpoolForward(r, y0, am0, x, gamma, beta, mean, invstd, s, false);
      dropoutForward(r, y2, y0, drop);
      dropoutBackward(r, dyPre, dy, drop, false);
      bnReluMaxpoolBackward(r, dx2, dg2, db2, dyPre, am0, x, mean, invstd, gamma, s, false);
    });
    const read = (b: GPUBuffer, n: number) => gpu.readF32(b, n).then((v) => Array.from(v));
    const y = await read(y1, count(s));
    expect(y).toEqual(await read(y2, count(s)));
    expect(await read(dx1, xLen)).toEqual(await read(dx2, xLen));
    expect(await read(dg1, c)).toEqual(await read(dg2, c));
    expect(await read(db1, c)).toEqual(await read(db2, c));
    // Some outputs were open before dropout and dropped by it: their argmax is NONE.
    const [before, after] = [await gpu.readU32(am0, count(s)), await gpu.readU32(am1, count(s))];
    const dropped = [...after].filter((at, o) => at === BN_RELU_MAXPOOL_NONE && before[o] !== BN_RELU_MAXPOOL_NONE).length;
    expect(dropped).toBeGreaterThan(0);
    expect([...after].every((at, o) => at === BN_RELU_MAXPOOL_NONE || at === before[o])).toBe(true);
  });

  it('a window larger than the input is an error in both directions, not an empty output', () => {
    const s: BnReluMaxpoolShape = { n: 1, d: 1, h: 1, w: 4, c: 4, pd: 1, ph: 2, pw: 2 };
    const b = gpu.upload(new Float32Array(16));
    expect(() => run(gpu, (r) => bnReluMaxpoolForward(r, b, b, b, b, b, b, b, s, false))).toThrow(/window 1×2×2 does not fit in the input 1×1×4/);
    expect(() => run(gpu, (r) => bnReluMaxpoolBackward(r, b, b, b, b, b, b, b, b, b, s))).toThrow(/window 1×2×2 does not fit in the input 1×1×4/);
    b.destroy();
  });

  it('the reference gradients agree with central finite differences', () => {
    const s = SHAPES[1]![1];
    const a = inputs(s, 7);
    const f64 = (v: Float32Array) => Float64Array.from(v);
    const loss = (x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>) => dot(bnReluMaxpoolRef(x, gamma, beta, a.runMean, a.runVar, s, true).y, a.dy);
    const g = bnReluMaxpoolRef(a.x, a.gamma, a.beta, a.runMean, a.runVar, s, true).backward(a.dy);
    const every7 = Array.from({ length: Math.ceil(a.x.length / 7) }, (_, i) => i * 7);
    expectGradient('dx', (x) => loss(x, a.gamma, a.beta), f64(a.x), g.dx, TOL.refGradient!, { indices: every7 });
    expectGradient('dgamma', (gm) => loss(a.x, gm, a.beta), f64(a.gamma), g.dgamma, TOL.refGradient!);
    expectGradient('dbeta', (bt) => loss(a.x, a.gamma, bt), f64(a.beta), g.dbeta, TOL.refGradient!);
  });
});
