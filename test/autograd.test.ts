// How the autograd fills gradient buffers. The first backward kernel of a step to
// write a tensor's gradient overwrites a fresh, unzeroed buffer (Graph.gradToWrite:
// no clearing, no read of the old values); every later one adds to it. Here a tensor
// read by two ops (of batch norm, dropout, ReLU, global average pooling and conv3d's
// backward_input) gets the sum of
// both contributions in either order of the ops, so each kernel runs once as the first
// writer and once as the second, and the buffers the pool hands out are poisoned
// first: a first writer that skipped an element, or added to what it found, would
// leave NaN behind.
import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { Graph, Parameter, State, type Tensor } from '../src/autograd/tensor.js';
import { batchnorm, conv3d, dropout, globalAvgPool, relu } from '../src/autograd/ops.js';
import { batchnormBackwardRef, batchnormForwardTrainRef } from '../src/ref/batchnorm.js';
import { dropoutBackwardRef } from '../src/ref/dropout.js';
import { reluBackwardRef } from '../src/ref/relu.js';
import { gapBackwardRef } from '../src/ref/gap.js';
import { conv3dBackwardInputRef } from '../src/ref/conv3d.js';
import type { Conv3dShape } from '../src/kernels/conv3d.js';
import { dropoutLayerSeed, BN_EPS } from '../src/model/architecture.js';
import { BATCHNORM_TOL } from '../src/kernels/tolerances.js';
import { expectClose, makeRng, normal, uniform } from './util/check.js';

const gpu = await getGpu();

const M = 37; // rows: not a multiple of the kernels' row blocks
const C = 12;
const RATE = 0.3;
const STEP = 5;
const SEED = 11;
// x viewed as [1, 1, 1, M, C] by a conv3d with a 1×1×3 kernel to COUT channels.
const COUT = 8;
const CONV: Conv3dShape = { n: 1, d: 1, h: 1, w: M, cin: C, cout: COUT, kd: 1, kh: 1, kw: 3, padding: 'same' };

/** Fills the pool's free list for `bytes` with NaN buffers, so scratch buffers of that size start as garbage. */
function poisonPool(bytes: number, count: number): void {
  const bufs = Array.from({ length: count }, () => gpu.pool.acquire(bytes));
  for (const b of bufs) gpu.device.queue.writeBuffer(b, 0, new Float32Array(b.size / 4).fill(Number.NaN));
  for (const b of bufs) gpu.pool.release(b);
}

type Op = 'batchnorm' | 'dropout' | 'relu' | 'conv3d' | 'gap';

/** x [1, 1, 1, M, C] read by the ops in `order`; each output's gradient is set to its own dy; returns x's gradient. */
async function gradientOfSharedInput(order: Op[], x: Float32Array, dys: Record<Op, Float32Array>, bn: { gamma: Float32Array; beta: Float32Array }, kernel: Float32Array): Promise<Float32Array> {
  poisonPool(M * C * 4, 16);
  const g = new Graph(gpu, true, STEP, SEED);
  const xt = g.tensor([1, 1, 1, M, C], true, 'x');
  gpu.device.queue.writeBuffer(xt.buffer, 0, x);
  const p = {
    gamma: new Parameter(gpu, [C], 'gamma', bn.gamma),
    beta: new Parameter(gpu, [C], 'beta', bn.beta),
    runningMean: new State(gpu, [C], 'mean', new Float32Array(C)),
    runningVar: new State(gpu, [C], 'var', new Float32Array(C).fill(1)),
  };
  const w = new Parameter(gpu, [1, 1, 3, C, COUT], 'w', kernel);
  const b = new Parameter(gpu, [COUT], 'b', new Float32Array(COUT));
  const apply = { batchnorm: () => batchnorm(g, xt, p), dropout: () => dropout(g, xt, RATE), relu: () => relu(g, xt), conv3d: () => conv3d(g, xt, w, b, 'same'), gap: () => globalAvgPool(g, xt) };
  const outs: [Op, Tensor][] = order.map((op) => [op, apply[op]()]);
  const uploads: GPUBuffer[] = [];
  for (const [op, y] of outs) {
    // After gradOf's clearing in the same recording, so the copy lands on top of it.
    const src = gpu.upload(dys[op], `d${op}`);
    uploads.push(src);
    g.r.copy(src, 0, g.gradOf(y), 0, dys[op].length * 4);
  }
  g.backward();
  const grad = xt.grad!;
  g.r.submit();
  const got = await gpu.readF32(grad, M * C);
  g.finish();
  for (const buf of [...uploads, p.gamma.buffer, p.gamma.grad, p.beta.buffer, p.beta.grad, p.runningMean.buffer, p.runningVar.buffer, w.buffer, w.grad, b.buffer, b.grad]) buf.destroy();
  return got;
}

describe('gradients of a tensor read by several ops', () => {
  const rand = makeRng(7);
  const x = normal(rand, M * C);
  const bn = { gamma: uniform(rand, C, 0.5, 1.5), beta: uniform(rand, C, -0.5, 0.5) };
  const kernel = normal(rand, 3 * C * COUT);
  const dys: Record<Op, Float32Array> = { batchnorm: normal(rand, M * C), dropout: normal(rand, M * C), relu: normal(rand, M * C), conv3d: normal(rand, M * COUT), gap: normal(rand, C) };
  const fwd = batchnormForwardTrainRef(x, bn.gamma, bn.beta, new Float64Array(C), new Float64Array(C).fill(1), { m: M, c: C, eps: BN_EPS });
  const want: Record<Op, Float64Array> = {
    batchnorm: batchnormBackwardRef(dys.batchnorm, x, fwd.mean, fwd.invstd, bn.gamma, { m: M, c: C }).dx,
    // The graph's first (and only) dropout layer.
    dropout: dropoutBackwardRef(dys.dropout, RATE, dropoutLayerSeed(SEED, 0), STEP),
    relu: reluBackwardRef(dys.relu, Float64Array.from(x, (v) => Math.max(0, v))),
    conv3d: conv3dBackwardInputRef(dys.conv3d, kernel, CONV),
    gap: gapBackwardRef(dys.gap, { n: 1, spatial: M, c: C }),
  };
  const sum = (ops: Op[]): Float64Array => Float64Array.from(x, (_, i) => ops.reduce((s, op) => s + want[op][i]!, 0));

  const cases: Op[][] = [
    ['batchnorm', 'dropout'], // dropout's backward runs first (the tape runs in reverse) and overwrites
    ['dropout', 'batchnorm'], // batch norm's backward overwrites, dropout's adds
    ['relu', 'batchnorm'], // batch norm's backward overwrites, relu's adds
    ['batchnorm', 'relu'], // relu's backward overwrites, batch norm's adds
    ['gap', 'relu'], // relu's backward overwrites, global average pooling's adds
    ['relu', 'gap'], // global average pooling's backward overwrites, relu's adds
    ['batchnorm', 'conv3d'], // conv3d's backward_input overwrites, batch norm's adds
    ['conv3d', 'dropout'], // dropout's backward overwrites, conv3d's backward_input adds
  ];
  for (const order of cases) {
    it(`${order.join(' and ')}: the sum of both ops' gradients`, async () => {
      const got = await gradientOfSharedInput(order, x, dys, bn, kernel);
      expect(got.every(Number.isFinite), 'no poisoned value survives').toBe(true);
      expectClose(`dx (${order.join(', ')})`, got, sum(order), BATCHNORM_TOL.backward);
    });
  }
  it('one op alone: its own gradient', async () => {
    for (const op of ['batchnorm', 'dropout', 'conv3d', 'relu', 'gap'] as const) {
      const got = await gradientOfSharedInput([op], x, dys, bn, kernel);
      expect(got.every(Number.isFinite)).toBe(true);
      expectClose(`dx (${op} alone)`, got, want[op], BATCHNORM_TOL.backward);
    }
  });
});
