import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { batchnormBackward, batchnormForwardInference, batchnormForwardTrain, bnChunking, type BatchnormShape } from '../src/kernels/batchnorm.js';
import { batchnormBackwardRef, batchnormForwardInferenceRef, batchnormForwardTrainRef } from '../src/ref/batchnorm.js';
import { BATCHNORM_TOL } from '../src/kernels/tolerances.js';
import { dot, expectClose, expectGradient, makeRng, normal, uniform, type Tol } from './util/check.js';

const gpu = await getGpu();

const TOL: Record<string, Tol> = {
  ...BATCHNORM_TOL,
  trainVsInference: { atol: 1e-3, rtol: 1e-3 },
  refGradient: { atol: 1e-7, rtol: 1e-5 },
};

// The shaders take 4 channels per vec4 where C % 4 == 0 and one at a time otherwise
// (a last group of 1–3 channels), 4 rows per invocation of the elementwise passes.
const SHAPES: [string, BatchnormShape][] = [
  ['dense, batch 1 (zero variance)', { m: 1, c: 5 }],
  ['batch 1, 4 channels (one vec4, zero variance)', { m: 1, c: 4 }],
  ['batch 7 at 1×1×1 spatial', { m: 7, c: 3 }],
  ['one channel, rows not a multiple of 4', { m: 1003, c: 1 }],
  ['6 channels: one vec4 group and one of 2, scalar path', { m: 91, c: 6 }],
  ['8 channels (vec4), rows not a multiple of 4 and of the chunk', { m: 6001, c: 8 }],
  ['conv map N 2 × 3×5×7, 64 channels', { m: 210, c: 64 }],
  ['many chunks, channels not a multiple of 4', { m: 5000, c: 37 }],
  ['the maximum chunk count, few channels', { m: 40_000, c: 9 }],
  ['over 500 chunks, the last one short, 12 channels (vec4)', { m: 40_003, c: 12 }],
];

function upload(...arrays: (Float32Array | Uint32Array)[]): GPUBuffer[] {
  return arrays.map((a) => gpu.upload(a));
}

describe('batchnorm', () => {
  for (const [name, s] of SHAPES) {
    it(`training forward, statistics and backward match the reference: ${name}`, async () => {
      const { m, c } = s;
      const rand = makeRng(m + c);
      // An offset mean makes a one-pass E[x^2] - E[x]^2 variance visibly wrong.
      const x = normal(rand, m * c, 3, 2);
      const gamma = uniform(rand, c, 0.5, 1.5);
      const beta = uniform(rand, c);
      const runMean0 = uniform(rand, c);
      const runVar0 = uniform(rand, c, 0.5, 2);
      const dy = uniform(rand, m * c);
      const dx0 = uniform(rand, m * c);
      const dgamma0 = uniform(rand, c);
      const dbeta0 = uniform(rand, c);
      const [xb, gb, bb, rmb, rvb, dyb, dxb, dgb, dbb] = upload(x, gamma, beta, runMean0, runVar0, dy, dx0, dgamma0, dbeta0);
      const [yb, meanb, invb] = upload(new Float32Array(m * c), new Float32Array(c), new Float32Array(c));
      run(gpu, (r) => {
        batchnormForwardTrain(r, yb!, meanb!, invb!, xb!, gb!, bb!, rmb!, rvb!, s);
        batchnormBackward(r, dxb!, dgb!, dbb!, dyb!, xb!, meanb!, invb!, gb!, s);
      });
      console.log(`batchnorm M=${m} C=${c}: ${bnChunking(m).chunks} chunks of ${bnChunking(m).rowsPerChunk} rows`);
      const ref = batchnormForwardTrainRef(x, gamma, beta, runMean0, runVar0, s);
      expectClose(`batchnorm y ${name}`, await gpu.readF32(yb!, m * c), ref.y, TOL.forward!);
      expectClose(`batchnorm mean ${name}`, await gpu.readF32(meanb!, c), ref.mean, TOL.stats!);
      expectClose(`batchnorm invstd ${name}`, await gpu.readF32(invb!, c), ref.invstd, TOL.stats!);
      expectClose(`batchnorm running mean ${name}`, await gpu.readF32(rmb!, c), ref.runMean, TOL.stats!);
      expectClose(`batchnorm running var ${name}`, await gpu.readF32(rvb!, c), ref.runVar, TOL.stats!);
      const g = batchnormBackwardRef(dy, x, ref.mean, ref.invstd, gamma, s);
      expectClose(`batchnorm dx ${name}`, await gpu.readF32(dxb!, m * c), g.dx.map((v, i) => v + dx0[i]!), TOL.backward!);
      expectClose(`batchnorm dgamma ${name}`, await gpu.readF32(dgb!, c), g.dgamma.map((v, i) => v + dgamma0[i]!), TOL.backward!);
      expectClose(`batchnorm dbeta ${name}`, await gpu.readF32(dbb!, c), g.dbeta.map((v, i) => v + dbeta0[i]!), TOL.backward!);
      for (const b of [xb, gb, bb, rmb, rvb, dyb, dxb, dgb, dbb, yb, meanb, invb]) b!.destroy();
    });
  }

  // The statistics are one pass of sums about x's first row: a first row far out in
  // its channel's distribution, on a mean far from zero, must not cost the variance
  // its accuracy (E[x^2] - E[x]^2 about zero would lose it all at this offset).
  for (const s of [{ m: 5003, c: 5 }, { m: 5003, c: 8 }] as BatchnormShape[]) it(`statistics when the first row is 8 standard deviations out on a mean of 1000: ${s.c} channels`, async () => {
    const { m, c } = s;
    const x = normal(makeRng(41 + c), m * c, 1000, 1);
    for (let j = 0; j < c; j++) x[j] = 1000 + (j % 2 ? 8 : -8);
    const [xb, gb, bb, rmb, rvb] = upload(x, new Float32Array(c).fill(1), new Float32Array(c), new Float32Array(c), new Float32Array(c).fill(1));
    const [yb, meanb, invb] = upload(new Float32Array(m * c), new Float32Array(c), new Float32Array(c));
    run(gpu, (r) => batchnormForwardTrain(r, yb!, meanb!, invb!, xb!, gb!, bb!, rmb!, rvb!, s));
    const ref = batchnormForwardTrainRef(x, new Float32Array(c).fill(1), new Float32Array(c), new Float32Array(c), new Float32Array(c).fill(1), s);
    expectClose(`mean, first row 8 sd out`, await gpu.readF32(meanb!, c), ref.mean, TOL.stats!);
    expectClose(`invstd, first row 8 sd out`, await gpu.readF32(invb!, c), ref.invstd, TOL.stats!);
    expectClose(`running var, first row 8 sd out`, await gpu.readF32(rvb!, c), ref.runVar, TOL.stats!);
    for (const b of [xb, gb, bb, rmb, rvb, yb, meanb, invb]) b!.destroy();
  });

  for (const s of [{ m: 333, c: 17 }, { m: 333, c: 20 }] as BatchnormShape[]) it(`inference forward matches the reference: ${s.c} channels (${s.c % 4 ? 'scalar' : 'vec4'} path)`, async () => {
    const rand = makeRng(5);
    const x = uniform(rand, s.m * s.c);
    const gamma = uniform(rand, s.c);
    const beta = uniform(rand, s.c);
    const rm = uniform(rand, s.c);
    const rv = uniform(rand, s.c, 0.1, 3);
    const [xb, gb, bb, rmb, rvb, yb] = upload(x, gamma, beta, rm, rv, new Float32Array(x.length));
    run(gpu, (r) => batchnormForwardInference(r, yb!, xb!, gb!, bb!, rmb!, rvb!, s));
    expectClose('batchnorm inference', await gpu.readF32(yb!, x.length), batchnormForwardInferenceRef(x, gamma, beta, rm, rv, s), TOL.inference!);
    for (const b of [xb, gb, bb, rmb, rvb, yb]) b!.destroy();
  });

  it('after many training steps on a constant batch, inference output ≈ training output', async () => {
    const s: BatchnormShape = { m: 96, c: 8 };
    const rand = makeRng(6);
    const x = normal(rand, s.m * s.c, 2, 3);
    const gamma = uniform(rand, s.c, 0.5, 1.5);
    const beta = uniform(rand, s.c);
    const [xb, gb, bb, yb, yib, meanb, invb] = upload(x, gamma, beta, new Float32Array(x.length), new Float32Array(x.length), new Float32Array(s.c), new Float32Array(s.c));
    // Keras' initial moving statistics: mean 0, variance 1.
    const [rmb, rvb] = upload(new Float32Array(s.c), new Float32Array(s.c).fill(1));
    // 0.99^1200 ≈ 6e-6 of the initial statistics remains.
    const steps = 1200;
    for (let i = 0; i < steps; i += 100) {
      run(gpu, (r) => {
        for (let k = 0; k < 100; k++) batchnormForwardTrain(r, yb!, meanb!, invb!, xb!, gb!, bb!, rmb!, rvb!, s);
      });
      await gpu.sync();
    }
    run(gpu, (r) => batchnormForwardInference(r, yib!, xb!, gb!, bb!, rmb!, rvb!, s));
    const train = await gpu.readF32(yb!, x.length);
    const infer = await gpu.readF32(yib!, x.length);
    expectClose('batchnorm inference vs training output', infer, train, TOL.trainVsInference!);
    // And the step really changed the statistics away from the initial (0, 1).
    expect(Math.abs(infer[0]! - ((x[0]! - 0) * gamma[0]!) / Math.sqrt(1 + 1e-3) - beta[0]!)).toBeGreaterThan(0.01);
    for (const b of [xb, gb, bb, yb, yib, meanb, invb, rmb, rvb]) b!.destroy();
  });

  it('reference gradients of the training forward match finite differences', () => {
    const s = { m: 6, c: 3 };
    const rand = makeRng(7);
    const x = Float64Array.from(normal(rand, s.m * s.c, 1, 2));
    const gamma = Float64Array.from(uniform(rand, s.c, 0.5, 1.5));
    const beta = Float64Array.from(uniform(rand, s.c));
    const zeros = new Float64Array(s.c);
    const r = uniform(rand, s.m * s.c);
    const fwd = (xs: ArrayLike<number>, gs: ArrayLike<number>, bs: ArrayLike<number>) => batchnormForwardTrainRef(xs, gs, bs, zeros, zeros, s);
    const saved = fwd(x, gamma, beta);
    const g = batchnormBackwardRef(r, x, saved.mean, saved.invstd, gamma, s);
    expectGradient('batchnorm dx', (xs) => dot(fwd(xs, gamma, beta).y, r), x, g.dx, TOL.refGradient!);
    expectGradient('batchnorm dgamma', (gs) => dot(fwd(x, gs, beta).y, r), gamma, g.dgamma, TOL.refGradient!);
    expectGradient('batchnorm dbeta', (bs) => dot(fwd(x, gamma, bs).y, r), beta, g.dbeta, TOL.refGradient!);
  });
});
