// Batch norm → ReLU → max pooling fused into one pass over the activation (the
// tail of the report's conv blocks): the same results as batchnorm, relu and
// maxpool3d in turn, without writing and rereading the two full-size
// intermediates. Statistics come from batchnormStatistics in training, from the
// running averages in inference. Reference: src/ref/bn_relu_maxpool.ts.
// Every shader loads and stores 4 channels per vec4 where C is a multiple of 4
// (their VEC override constant), one channel at a time otherwise. The backward
// never builds the gradient at the batch norm's output: its sums run over the
// pooled elements, and its elementwise pass routes each window's gradient itself.
import { grid1d, rowRange, type KernelSpec, type Recorder } from './kernel.js';
import { BN_EPS, batchnormBackwardSums, chunkSlices } from './batchnorm.js';
import { dropoutConstants } from './dropout.js';
import { maxpool3dOutShape, maxpool3dSampleRuns, type Maxpool3dShape } from './maxpool3d.js';

export interface BnReluMaxpoolShape extends Maxpool3dShape {
  /** Keras' default 1e-3 unless given. */
  eps?: number;
  /**
   * The block's dropout, fused: the dropout op's function of the pooled output (same
   * mask, element by element, for the same rate, seed and step). Both directions
   * must be given the same.
   */
  dropout?: { rate: number; seed: number; step: number };
}

export const BN_RELU_MAXPOOL_FORWARD: KernelSpec = {
  shader: 'bn_relu_maxpool_forward',
  params: [
    ...['n', 'd', 'h', 'w', 'c', 'od', 'oh', 'ow', 'from_var'].map((f) => [f, 'u32'] as const),
    ['eps', 'f32'],
    ['threshold', 'u32'],
    ['scale', 'f32'],
    ...['seed', 'step', 'base'].map((f) => [f, 'u32'] as const),
  ],
  inputs: ['x', 'gamma', 'beta', 'mean', 'scale'],
  outputs: ['y', 'argmax'],
};

export const BN_RELU_MAXPOOL_BACKWARD_REDUCE: KernelSpec = {
  shader: 'bn_relu_maxpool_backward_reduce',
  params: [...['m', 'c', 'chunks', 'rows_per_chunk', 'chunk_base', 'chunks_total'].map((f) => [f, 'u32'] as const), ['scale', 'f32']],
  inputs: ['dy', 'argmax', 'x', 'mean', 'invstd'],
  outputs: ['partial'],
};

export const BN_RELU_MAXPOOL_BACKWARD: KernelSpec = {
  shader: 'bn_relu_maxpool_backward',
  params: [...['n', 'd', 'h', 'w', 'c', 'od', 'oh', 'ow'].map((f) => [f, 'u32'] as const), ['inv_m', 'f32'], ['scale', 'f32']],
  inputs: ['dy', 'argmax', 'x', 'mean', 'invstd', 'gamma', 'sums'],
  outputs: ['dx'],
};

/** The pooled shape; an error for a window of a non-positive size or one larger than the input (no output at all). */
function checkedOutShape(s: BnReluMaxpoolShape): { od: number; oh: number; ow: number } {
  if (s.pd < 1 || s.ph < 1 || s.pw < 1) throw new Error('bn_relu_maxpool: window sizes must be positive');
  const out = maxpool3dOutShape(s);
  if (out.od < 1 || out.oh < 1 || out.ow < 1) throw new Error(`bn_relu_maxpool: the window ${s.pd}×${s.ph}×${s.pw} does not fit in the input ${s.d}×${s.h}×${s.w}`);
  return out;
}

/** The fused dropout's shader parameters; `on` false (rate 0 or none) leaves the block without it. */
function dropoutOf(s: BnReluMaxpoolShape): { on: boolean; threshold: number; scale: number; seed: number; step: number } {
  const d = s.dropout;
  if (!d || d.rate === 0) return { on: false, threshold: 0, scale: 1, seed: 0, step: 0 };
  return { on: true, ...dropoutConstants(d.rate), seed: d.seed >>> 0, step: d.step >>> 0 };
}

/** argmax where the ReLU closed (y = 0) or the fused dropout dropped the output: no element gets a gradient. */
export const BN_RELU_MAXPOOL_NONE = 0xffffffff;

const WG = 64;
/**
 * Output positions (along W) per invocation: its channels' parameters and its position's
 * decoding are paid once for all of them. The forward ran 1.5–1.7× faster with 8 than
 * with 4 at conv1 (widths 1 and 1/8) and conv3 on lavapipe; the backward was level, so it
 * keeps 4 (`bench/bn_relu_maxpool.bench.ts`, docs/PERFORMANCE.md).
 */
const FORWARD_POS = 8;
const BACKWARD_POS = 4;

/**
 * y = maxpool(relu(gamma (x - mean) k + beta)), argmax its flat indices into x
 * (into x's slice, for a sliced batch), or BN_RELU_MAXPOOL_NONE where y = 0 (the
 * backward routes nothing there). `scale` is invstd (training) or, with
 * fromVar, the running variance (inference).
 */
export function bnReluMaxpoolForward(
  r: Recorder,
  y: GPUBuffer,
  argmax: GPUBuffer,
  x: GPUBuffer,
  gamma: GPUBuffer,
  beta: GPUBuffer,
  mean: GPUBuffer,
  scale: GPUBuffer,
  s: BnReluMaxpoolShape,
  fromVar: boolean,
): void {
  const out = checkedOutShape(s);
  const { runs, xBytes, yBytes } = maxpool3dSampleRuns(r, s);
  const drop = dropoutOf(s);
  const perSample = out.od * out.oh * out.ow * s.c;
  for (const run of runs) {
    r.dispatch(BN_RELU_MAXPOOL_FORWARD, {
      params: {
        n: run.count, d: s.d, h: s.h, w: s.w, c: s.c, ...out, from_var: fromVar ? 1 : 0, eps: s.eps ?? BN_EPS,
        // The mask is a function of the output's index in the whole tensor, as the dropout op's.
        threshold: drop.threshold, scale: drop.scale, seed: drop.seed, step: drop.step, base: run.start * perSample,
      },
      buffers: { x: rowRange(x, run, xBytes), gamma, beta, mean, scale, y: rowRange(y, run, yBytes), argmax: rowRange(argmax, run, yBytes) },
      constants: { WG, POS: FORWARD_POS, VEC: s.c % 4 === 0 ? 1 : 0, PD: s.pd, PH: s.ph, PW: s.pw, DROPOUT: drop.on ? 1 : 0 },
      workgroups: grid1d(r.gpu, run.count * out.od * out.oh * Math.ceil(out.ow / FORWARD_POS) * Math.ceil(s.c / 4), WG),
    });
  }
}

/**
 * Backward of the training forward, through pooling, ReLU and batch norm at once:
 * dx += d(loss)/dx (dx = … with `accumulate` false, for a gradient's first writer),
 * dgamma += sum dv·xhat, dbeta += sum dv, where dv = dy (times the fused dropout's
 * 1 / (1 − rate)) at each window's argmax (NONE where the ReLU closed or the dropout
 * dropped: nothing) and zero elsewhere. The batch-norm sums run
 * over the pooled elements only; dv itself is never stored.
 */
export function bnReluMaxpoolBackward(
  r: Recorder,
  dx: GPUBuffer,
  dgamma: GPUBuffer,
  dbeta: GPUBuffer,
  dy: GPUBuffer,
  argmax: GPUBuffer,
  x: GPUBuffer,
  mean: GPUBuffer,
  invstd: GPUBuffer,
  gamma: GPUBuffer,
  s: BnReluMaxpoolShape,
  accumulate = true,
): void {
  const out = checkedOutShape(s);
  const { runs, xBytes, yBytes } = maxpool3dSampleRuns(r, s);
  const windows = out.od * out.oh * out.ow; // pooled rows per sample
  const { slices: plan, chunks: chunksTotal } = chunkSlices(runs, windows);
  const vec = s.c % 4 === 0 ? 1 : 0;
  const scale = dropoutOf(s).scale;
  const partial = r.pool.acquire(2 * chunksTotal * s.c * 4, 'batchnorm partial');
  const sums = r.pool.acquire(2 * s.c * 4, 'batchnorm sums');
  for (const { run, k, base } of plan) {
    r.dispatch(BN_RELU_MAXPOOL_BACKWARD_REDUCE, {
      params: { m: run.count * windows, c: s.c, chunks: k.chunks, rows_per_chunk: k.rowsPerChunk, chunk_base: base, chunks_total: chunksTotal, scale },
      buffers: { dy: rowRange(dy, run, yBytes), argmax: rowRange(argmax, run, yBytes), x: rowRange(x, run, xBytes), mean, invstd, partial },
      constants: { WG, VEC: vec },
      workgroups: grid1d(r.gpu, k.chunks * Math.ceil(s.c / 4), WG),
    });
  }
  batchnormBackwardSums(r, sums, dgamma, dbeta, partial, chunksTotal, s.c);
  const invM = 1 / (s.n * s.d * s.h * s.w);
  for (const { run } of plan) {
    r.dispatch(BN_RELU_MAXPOOL_BACKWARD, {
      params: { n: run.count, d: s.d, h: s.h, w: s.w, c: s.c, ...out, inv_m: invM, scale },
      buffers: { dy: rowRange(dy, run, yBytes), argmax: rowRange(argmax, run, yBytes), x: rowRange(x, run, xBytes), mean, invstd, gamma, sums, dx: rowRange(dx, run, xBytes) },
      constants: { WG, POS: BACKWARD_POS, VEC: vec, ACCUMULATE: accumulate ? 1 : 0, PD: s.pd, PH: s.ph, PW: s.pw },
      workgroups: grid1d(r.gpu, run.count * out.od * out.oh * Math.ceil(out.ow / BACKWARD_POS) * Math.ceil(s.c / 4), WG),
    });
  }
  r.releaseAfterSubmit(partial);
  r.releaseAfterSubmit(sums);
}
