// Tensors larger than one storage binding (lavapipe allows 128 MiB; the report's
// first block at batch 32 holds 189 MB) are processed in slices by the ops that
// meet them. Here the binding limit is lowered to a few KiB so that small shapes
// take the sliced paths, and every op must give what it gives unsliced.
import { afterEach, describe, expect, it } from 'vitest';
import { getGpu, GpuError, type Gpu } from '../src/kernels/gpu.js';
import { bindingRuns, run, type Recorder } from '../src/kernels/kernel.js';
import { conv3dBackwardInput, conv3dBackwardWeight, conv3dForward, conv3dOutShape, type Conv3dKernel, type Conv3dShape } from '../src/kernels/conv3d.js';
import { batchnormBackward, batchnormForwardInference, batchnormForwardTrain } from '../src/kernels/batchnorm.js';
import { maxpool3dBackward, maxpool3dForward } from '../src/kernels/maxpool3d.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { dropoutBackward, dropoutForward } from '../src/kernels/dropout.js';
import { gapForward } from '../src/kernels/gap.js';
import { bnReluMaxpoolBackward, bnReluMaxpoolForward } from '../src/kernels/bn_relu_maxpool.js';
import { dropoutMaskRef } from '../src/ref/dropout.js';
import { Rng } from '../src/util/rng.js';
import { expectClose } from './util/check.js';

/** conv3d's two sets of kernels slice alike; both run where the device has both. */
const KERNELS: Conv3dKernel[] = (await getGpu()).features.shuffle8 ? ['subgroup', 'direct'] : ['direct'];

/**
 * Sliced against unsliced, |sliced - whole| <= atol + rtol·|whole|: conv3d and batch norm
 * may sum in another order when sliced; the elementwise ops and pooling must agree exactly.
 */
const TOL = {
  conv3d: { atol: 1e-5, rtol: 1e-5 },
  batchnorm: { atol: 2e-5, rtol: 2e-5 },
  exact: { atol: 0, rtol: 0 },
};

function random(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

/** Fresh GPU buffers holding `inputs`, zeroed outputs of the given lengths, the recording, then every output read back. */
async function outputs(gpu: Gpu, inputs: Record<string, Float32Array>, outLengths: Record<string, number>, record: (r: Recorder, b: Record<string, GPUBuffer>) => void): Promise<Record<string, Float32Array>> {
  const b: Record<string, GPUBuffer> = {};
  for (const [name, data] of Object.entries(inputs)) b[name] = gpu.upload(data, name);
  for (const [name, n] of Object.entries(outLengths)) b[name] = gpu.upload(new Float32Array(n), name);
  run(gpu, (r) => record(r, b));
  const out: Record<string, Float32Array> = {};
  for (const [name, n] of Object.entries(outLengths)) out[name] = await gpu.readF32(b[name]!, n);
  await gpu.sync();
  for (const buf of Object.values(b)) buf.destroy();
  return out;
}

/** The op's outputs with the device's binding limit and with `limit`; asserts that the latter really slices. */
async function slicedAndWhole(
  limit: number,
  slicing: { rows: number; rowBytes: number[] },
  inputs: Record<string, Float32Array>,
  outLengths: Record<string, number>,
  record: (r: Recorder, b: Record<string, GPUBuffer>) => void,
): Promise<[Record<string, Float32Array>, Record<string, Float32Array>]> {
  const gpu = await getGpu();
  const whole = await outputs(gpu, inputs, outLengths, record);
  gpu.maxBindingBytes = limit;
  try {
    expect(bindingRuns(gpu, slicing.rows, slicing.rowBytes).length).toBeGreaterThan(2);
    const sliced = await outputs(gpu, inputs, outLengths, record);
    return [sliced, whole];
  } finally {
    gpu.maxBindingBytes = gpu.limits.maxStorageBufferBindingSize;
  }
}

describe('ops on tensors larger than one storage binding', () => {
  afterEach(async () => {
    const gpu = await getGpu();
    gpu.maxBindingBytes = gpu.limits.maxStorageBufferBindingSize;
  });

  it('bindingRuns: one run when the tensor fits; otherwise aligned runs that cover every row once and fit the limit', async () => {
    const gpu = await getGpu();
    expect(bindingRuns(gpu, 32, [1000])).toEqual([{ start: 0, count: 32 }]);
    gpu.maxBindingBytes = 10_000;
    const align = gpu.limits.minStorageBufferOffsetAlignment;
    // 1000-byte rows align only every 32 rows, 32 000 bytes: no run can fit.
    expect(() => bindingRuns(gpu, 100, [1000])).toThrow(GpuError);
    for (const rowBytes of [[4], [12, 20], [1024], [44, 4], [768, 3072]]) {
      const rows = 1 + Math.floor(40_000 / Math.max(...rowBytes));
      const runs = bindingRuns(gpu, rows, rowBytes);
      let next = 0;
      for (const r of runs) {
        expect(r.start).toBe(next);
        next += r.count;
        for (const rb of rowBytes) {
          expect((r.start * rb) % align).toBe(0);
          expect(r.count * rb).toBeLessThanOrEqual(gpu.maxBindingBytes);
        }
      }
      expect(next).toBe(rows);
    }
  });

  for (const kernel of KERNELS) it(`conv3d forward, backward_input and backward_weight (${kernel} kernels)`, async () => {
    const s: Conv3dShape = { n: 9, d: 2, h: 7, w: 6, cin: 4, cout: 8, kd: 1, kh: 3, kw: 3, padding: 'same' };
    const [, od, oh, ow] = conv3dOutShape(s);
    const xLen = s.n * s.d * s.h * s.w * s.cin;
    const yLen = s.n * od * oh * ow * s.cout;
    const wLen = s.kd * s.kh * s.kw * s.cin * s.cout;
    const [sliced, whole] = await slicedAndWhole(
      16384,
      { rows: s.n, rowBytes: [s.d * s.h * s.w * s.cin * 4, od * oh * ow * s.cout * 4] },
      { x: random(xLen, 1), w: random(wLen, 2), b: random(s.cout, 3), dy: random(yLen, 4) },
      { y: yLen, dx: xLen, dw: wLen, db: s.cout },
      (r, b) => {
        conv3dForward(r, b.y!, b.x!, b.w!, b.b!, s, { kernel });
        conv3dBackwardInput(r, b.dx!, b.dy!, b.w!, s, { kernel });
        conv3dBackwardWeight(r, b.dw!, b.db!, b.dy!, b.x!, s, { kernel });
      },
    );
    for (const k of ['y', 'dx', 'dw', 'db']) expectClose(`sliced ${k}`, sliced[k]!, whole[k]!, TOL.conv3d);
  });

  for (const kernel of KERNELS) it(`conv3d with one input channel and an odd map: slices whose byte sizes are not multiples of 16 (${kernel} kernels)`, async () => {
    // 150 samples of 1×5×7×1: runs of 64 samples, the last of 22 (3080 bytes of x).
    const s: Conv3dShape = { n: 150, d: 1, h: 5, w: 7, cin: 1, cout: 8, kd: 1, kh: 3, kw: 3, padding: 'same' };
    const xLen = s.n * s.d * s.h * s.w;
    const yLen = xLen * s.cout;
    const wLen = 9 * s.cout;
    const [sliced, whole] = await slicedAndWhole(
      80_000,
      { rows: s.n, rowBytes: [s.d * s.h * s.w * 4, s.d * s.h * s.w * s.cout * 4] },
      { x: random(xLen, 21), w: random(wLen, 22), b: random(s.cout, 23), dy: random(yLen, 24) },
      { y: yLen, dw: wLen, db: s.cout },
      (r, b) => {
        conv3dForward(r, b.y!, b.x!, b.w!, b.b!, s, { kernel });
        conv3dBackwardWeight(r, b.dw!, b.db!, b.dy!, b.x!, s, { kernel });
      },
    );
    for (const k of ['y', 'dw', 'db']) expectClose(`sliced ${k}`, sliced[k]!, whole[k]!, TOL.conv3d);
  });

  it('batch norm: training forward (statistics over every slice), inference forward and backward', async () => {
    const m = 333;
    const c = 12;
    const [sliced, whole] = await slicedAndWhole(
      4096,
      { rows: m, rowBytes: [c * 4] },
      {
        x: random(m * c, 5).map((v, i) => 3 * v + (i % c)),
        dy: random(m * c, 6),
        gamma: random(c, 7),
        beta: random(c, 8),
        runMean: random(c, 9),
        runVar: random(c, 10).map((v) => 1 + Math.abs(v)),
      },
      { y: m * c, yi: m * c, mean: c, invstd: c, dx: m * c, dgamma: c, dbeta: c, rm: c, rv: c },
      (r, b) => {
        batchnormForwardInference(r, b.yi!, b.x!, b.gamma!, b.beta!, b.runMean!, b.runVar!, { m, c });
        r.copy(b.runMean!, 0, b.rm!, 0, c * 4);
        r.copy(b.runVar!, 0, b.rv!, 0, c * 4);
        batchnormForwardTrain(r, b.y!, b.mean!, b.invstd!, b.x!, b.gamma!, b.beta!, b.rm!, b.rv!, { m, c });
        batchnormBackward(r, b.dx!, b.dgamma!, b.dbeta!, b.dy!, b.x!, b.mean!, b.invstd!, b.gamma!, { m, c });
      },
    );
    for (const k of ['y', 'yi', 'mean', 'invstd', 'dx', 'dgamma', 'dbeta', 'rm', 'rv']) expectClose(`sliced ${k}`, sliced[k]!, whole[k]!, TOL.batchnorm);
  });

  it('maxpool3d, relu, dropout and the fused bn_relu_maxpool forward and backward', async () => {
    const s = { n: 6, d: 3, h: 8, w: 8, c: 4, pd: 1, ph: 2, pw: 2 };
    const xLen = s.n * s.d * s.h * s.w * s.c;
    const yLen = s.n * s.d * 4 * 4 * s.c;
    const drop = { n: xLen, rate: 0.3, seed: 11, step: 4 };
    const [sliced, whole] = await slicedAndWhole(
      4096,
      { rows: s.n, rowBytes: [s.d * s.h * s.w * s.c * 4] },
      { x: random(xLen, 12), dyPool: random(yLen, 13), dyAct: random(xLen, 14), gamma: random(s.c, 15), beta: random(s.c, 16), mean: random(s.c, 17), invstd: random(s.c, 18).map(Math.abs) },
      {
        ...{ pooled: yLen, argmax: yLen, dxPool: xLen, relu: xLen, dxRelu: xLen, dropped: xLen, dxDrop: xLen, fused: yLen, fusedArgmax: yLen, dxFused: xLen, dgFused: s.c, dbFused: s.c },
        ...{ fusedDrop: yLen, fusedDropArgmax: yLen, dxFusedDrop: xLen, dgFusedDrop: s.c, dbFusedDrop: s.c },
      },
      (r, b) => {
        maxpool3dForward(r, b.pooled!, b.argmax!, b.x!, s);
        maxpool3dBackward(r, b.dxPool!, b.dyPool!, b.argmax!, s);
        reluForward(r, b.relu!, b.x!, xLen);
        reluBackward(r, b.dxRelu!, b.dyAct!, b.relu!, xLen);
        dropoutForward(r, b.dropped!, b.x!, drop);
        dropoutBackward(r, b.dxDrop!, b.dyAct!, drop);
        bnReluMaxpoolForward(r, b.fused!, b.fusedArgmax!, b.x!, b.gamma!, b.beta!, b.mean!, b.invstd!, s, false);
        bnReluMaxpoolBackward(r, b.dxFused!, b.dgFused!, b.dbFused!, b.dyPool!, b.fusedArgmax!, b.x!, b.mean!, b.invstd!, b.gamma!, s);
        // The fused dropout hashes the pooled output's index in the whole tensor, as the dropout op does.
        const sd = { ...s, dropout: { rate: 0.3, seed: 21, step: 3 } };
        bnReluMaxpoolForward(r, b.fusedDrop!, b.fusedDropArgmax!, b.x!, b.gamma!, b.beta!, b.mean!, b.invstd!, sd, false);
        bnReluMaxpoolBackward(r, b.dxFusedDrop!, b.dgFusedDrop!, b.dbFusedDrop!, b.dyPool!, b.fusedDropArgmax!, b.x!, b.mean!, b.invstd!, b.gamma!, sd);
      },
    );
    // argmax indices are relative to each slice; the gradient they route is what must agree.
    for (const k of ['pooled', 'dxPool', 'relu', 'dxRelu', 'dropped', 'dxDrop', 'fused', 'fusedDrop']) expectClose(`sliced ${k}`, sliced[k]!, whole[k]!, TOL.exact);
    // The fused backward's batch-norm sums add each slice's chunks: another order than one binding's.
    for (const k of ['dxFused', 'dgFused', 'dbFused', 'dxFusedDrop', 'dgFusedDrop', 'dbFusedDrop']) expectClose(`sliced ${k}`, sliced[k]!, whole[k]!, TOL.batchnorm);
    // The dropout dropped some of the outputs the ReLU left open.
    expect(whole.fusedDrop!.filter((v, o) => v === 0 && whole.fused![o]! > 0).length).toBeGreaterThan(0);
  });

  it('batch norm, the fused bn_relu_maxpool and dropout where channels are not a multiple of 4 (scalar paths) and a slice ends in a dropout tail of 3 elements', async () => {
    // Batch norm over [333, 7], 28-byte rows: runs of 128 rows.
    const m = 333;
    const c = 7;
    const [bnSliced, bnWhole] = await slicedAndWhole(
      4096,
      { rows: m, rowBytes: [c * 4] },
      { x: random(m * c, 31).map((v, i) => 3 * v + (i % c)), dy: random(m * c, 32), gamma: random(c, 33), beta: random(c, 34), runMean: random(c, 35), runVar: random(c, 36).map((v) => 1 + Math.abs(v)) },
      { y: m * c, yi: m * c, mean: c, invstd: c, dx: m * c, dgamma: c, dbeta: c },
      (r, b) => {
        batchnormForwardInference(r, b.yi!, b.x!, b.gamma!, b.beta!, b.runMean!, b.runVar!, { m, c });
        batchnormForwardTrain(r, b.y!, b.mean!, b.invstd!, b.x!, b.gamma!, b.beta!, b.runMean!, b.runVar!, { m, c });
        batchnormBackward(r, b.dx!, b.dgamma!, b.dbeta!, b.dy!, b.x!, b.mean!, b.invstd!, b.gamma!, { m, c });
      },
    );
    for (const k of ['y', 'yi', 'mean', 'invstd', 'dx', 'dgamma', 'dbeta']) expectClose(`sliced ${k}`, bnSliced[k]!, bnWhole[k]!, TOL.batchnorm);

    // The fused block tail over 12 samples of 1×8×8×5 (1280 bytes; pooled 320): runs of 4 samples.
    const s = { n: 12, d: 1, h: 8, w: 8, c: 5, pd: 1, ph: 2, pw: 2 };
    const xLen = s.n * s.d * s.h * s.w * s.c;
    const yLen = s.n * s.d * 4 * 4 * s.c;
    const [fusedSliced, fusedWhole] = await slicedAndWhole(
      8192,
      { rows: s.n, rowBytes: [s.d * s.h * s.w * s.c * 4, s.d * 4 * 4 * s.c * 4] },
      { x: random(xLen, 37), dy: random(yLen, 38), gamma: random(s.c, 39), beta: random(s.c, 40), mean: random(s.c, 41), invstd: random(s.c, 42).map(Math.abs) },
      { y: yLen, argmax: yLen, dx: xLen, dgamma: s.c, dbeta: s.c },
      (r, b) => {
        bnReluMaxpoolForward(r, b.y!, b.argmax!, b.x!, b.gamma!, b.beta!, b.mean!, b.invstd!, s, false);
        bnReluMaxpoolBackward(r, b.dx!, b.dgamma!, b.dbeta!, b.dy!, b.argmax!, b.x!, b.mean!, b.invstd!, b.gamma!, s);
      },
    );
    expectClose('sliced y', fusedSliced.y!, fusedWhole.y!, TOL.exact);
    for (const k of ['dx', 'dgamma', 'dbeta']) expectClose(`sliced ${k}`, fusedSliced[k]!, fusedWhole[k]!, TOL.batchnorm);

    // Dropout over 4099 elements: runs of 1024, the last of 3 (all tail, at global index 4096).
    const n = 4099;
    const drop = { n, rate: 0.3, seed: 12, step: 5 };
    const [dropSliced, dropWhole] = await slicedAndWhole(
      4096,
      { rows: n, rowBytes: [4] },
      { x: random(n, 43), dy: random(n, 44), dx0: random(n, 45) },
      { y: n, dx: n },
      (r, b) => {
        dropoutForward(r, b.y!, b.x!, drop);
        r.copy(b.dx0!, 0, b.dx!, 0, n * 4);
        dropoutBackward(r, b.dx!, b.dy!, drop);
      },
    );
    for (const k of ['y', 'dx']) expectClose(`sliced ${k}`, dropSliced[k]!, dropWhole[k]!, TOL.exact);
    expect(Array.from(dropWhole.y!, (v) => (v !== 0 ? 1 : 0))).toEqual(Array.from(dropoutMaskRef(n, drop.rate, drop.seed, drop.step)));
  });

  it('an op without slicing refuses a tensor larger than one binding with a GpuError that suggests a smaller --batch', async () => {
    const gpu = await getGpu();
    const n = 4;
    const c = 64;
    const spatial = 16;
    const x = gpu.pool.acquire(n * spatial * c * 4);
    const y = gpu.pool.acquire(n * c * 4);
    gpu.maxBindingBytes = 4096;
    let e: unknown = null;
    try {
      run(gpu, (r) => gapForward(r, y, x, { n, spatial, c }));
    } catch (err) {
      e = err;
    }
    gpu.maxBindingBytes = gpu.limits.maxStorageBufferBindingSize;
    expect(e).toBeInstanceOf(GpuError);
    expect((e as Error).message).toMatch(/storage-binding limit — try a smaller --batch$/);
    await gpu.sync();
    gpu.pool.release(x);
    gpu.pool.release(y);
  });
});
