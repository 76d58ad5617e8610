// Batch normalisation on the GPU over x viewed as [M, C] (channels-last: M = N*D*H*W
// for a conv activation, N for a dense one). Training uses the batch's mean and
// biased variance and updates the running statistics with Keras' momentum;
// inference uses the running statistics. Reference: src/ref/batchnorm.ts.
//
// The column sums over M (up to ~740k rows) run in two passes: batchnorm_reduce
// writes partial sums per (chunk of rows, channel), one invocation per chunk and
// 4 channels, then one invocation per 4 channels adds their chunks. The forward
// pass reduces twice (mean, then squares of x - mean) so the variance never
// subtracts two large sums. Every shader reads and writes 4 channels per vec4
// load and store where C is a multiple of 4 (every layer of the report's network),
// one channel at a time otherwise (the VEC override constant).
import { bindingRuns, grid1d, rowRange, type KernelSpec, type Recorder, type RowRun } from './kernel.js';
import { BN_EPS, BN_MOMENTUM } from '../model/architecture.js';

export interface BatchnormShape {
  /** Rows: every position of a channel (N*D*H*W, or N). */
  m: number;
  /** Channels. */
  c: number;
  /** Keras' default 1e-3 unless given. */
  eps?: number;
  /** Running-statistics momentum, Keras' default 0.99 unless given. */
  momentum?: number;
}

export { BN_EPS, BN_MOMENTUM };

export const BATCHNORM_REDUCE: KernelSpec = {
  shader: 'batchnorm_reduce',
  params: ['m', 'c', 'chunks', 'rows_per_chunk', 'mode', 'chunk_base', 'chunks_total'].map((f) => [f, 'u32'] as const),
  inputs: ['a', 'x', 'mean', 'invstd'],
  outputs: ['partial'],
};

export const BATCHNORM_FORWARD_STATS: KernelSpec = {
  shader: 'batchnorm_forward_stats',
  params: [
    ['c', 'u32'],
    ['chunks', 'u32'],
    ['inv_m', 'f32'],
    ['eps', 'f32'],
    ['momentum', 'f32'],
  ],
  inputs: ['partial'],
  outputs: ['mean', 'invstd', 'running_mean', 'running_var'],
};

export const BATCHNORM_FORWARD: KernelSpec = {
  shader: 'batchnorm_forward',
  params: [
    ['m', 'u32'],
    ['c', 'u32'],
    ['from_var', 'u32'],
    ['eps', 'f32'],
  ],
  inputs: ['x', 'gamma', 'beta', 'mean', 'scale'],
  outputs: ['y'],
};

export const BATCHNORM_BACKWARD_STATS: KernelSpec = {
  shader: 'batchnorm_backward_stats',
  params: [
    ['c', 'u32'],
    ['chunks', 'u32'],
  ],
  inputs: ['partial'],
  outputs: ['sums', 'dgamma', 'dbeta'],
};

export const BATCHNORM_BACKWARD: KernelSpec = {
  shader: 'batchnorm_backward',
  params: [
    ['m', 'u32'],
    ['c', 'u32'],
    ['inv_m', 'f32'],
  ],
  inputs: ['dy', 'x', 'mean', 'invstd', 'gamma', 'sums'],
  outputs: ['dx'],
};

/** At most this many row chunks, each of at least MIN_ROWS rows, per reduction. */
const MAX_CHUNKS = 512;
const MIN_ROWS = 64;
const WG = 64;
/** Rows per invocation of the elementwise passes (their channels' parameters are loaded once for all). */
const ROWS = 4;

/** The shaders' VEC constant: 4 channels per vec4 load and store. */
function vec(s: BatchnormShape): number {
  return s.c % 4 === 0 ? 1 : 0;
}

/** Workgroups of the per-channel passes (the statistics): one invocation per 4 channels. */
function channelGroups(s: BatchnormShape): number {
  return Math.ceil(Math.ceil(s.c / 4) / WG);
}

/** Workgroups of the elementwise passes over `rows` rows: ROWS rows × 4 channels per invocation. */
function elementwiseGroups(r: Recorder, rows: number, s: BatchnormShape): [number, number] {
  return grid1d(r.gpu, Math.ceil(rows / ROWS) * Math.ceil(s.c / 4), WG);
}

const enum Mode {
  /** Σ(x − mean) and Σ(x − mean)², mean holding the shift. */
  Shifted = 1,
  /** Σ dy and Σ dy · (x − mean) · invstd. */
  Backward = 2,
}

interface Chunking {
  chunks: number;
  rowsPerChunk: number;
}

export function bnChunking(m: number): Chunking {
  const chunks = Math.max(1, Math.min(MAX_CHUNKS, Math.ceil(m / MIN_ROWS)));
  const rowsPerChunk = Math.ceil(m / chunks);
  // Recount so that no chunk is empty.
  return { chunks: Math.ceil(m / rowsPerChunk), rowsPerChunk };
}

/**
 * The column reduction's plan: slices of rows that fit one storage binding (one
 * slice unless the tensor is huge), each with its own chunking, their partial
 * sums laid out one after another.
 */
export interface ReducePlan {
  slices: { run: RowRun; k: Chunking; base: number }[];
  chunks: number;
}

/**
 * Chunks the rows of each slice (`rowsPerRun` rows per element of run.count) and lays
 * their partial sums out one slice after another. Shared with the fused
 * bn_relu_maxpool backward, whose slices are runs of samples.
 */
export function chunkSlices(runs: RowRun[], rowsPerRun = 1): ReducePlan {
  let chunks = 0;
  const slices = runs.map((run) => {
    const k = bnChunking(run.count * rowsPerRun);
    const base = chunks;
    chunks += k.chunks;
    return { run, k, base };
  });
  return { slices, chunks };
}

function reducePlan(r: Recorder, s: BatchnormShape): ReducePlan {
  return chunkSlices(bindingRuns(r.gpu, s.m, [s.c * 4]));
}

function reduce(r: Recorder, partial: GPUBuffer, a: GPUBuffer, x: GPUBuffer, mean: GPUBuffer, invstd: GPUBuffer, s: BatchnormShape, plan: ReducePlan, mode: Mode): void {
  const rowBytes = s.c * 4;
  for (const { run, k, base } of plan.slices) {
    r.dispatch(BATCHNORM_REDUCE, {
      params: { m: run.count, c: s.c, chunks: k.chunks, rows_per_chunk: k.rowsPerChunk, mode, chunk_base: base, chunks_total: plan.chunks },
      buffers: { a: rowRange(a, run, rowBytes), x: rowRange(x, run, rowBytes), mean, invstd, partial },
      constants: { WG, VEC: vec(s) },
      workgroups: grid1d(r.gpu, k.chunks * Math.ceil(s.c / 4), WG),
    });
  }
}

/**
 * Training forward: y = gamma (x - mean) invstd + beta with the batch's statistics;
 * saves mean and invstd [C] for backward and updates runMean and runVar in place.
 */
export function batchnormForwardTrain(
  r: Recorder,
  y: GPUBuffer,
  mean: GPUBuffer,
  invstd: GPUBuffer,
  x: GPUBuffer,
  gamma: GPUBuffer,
  beta: GPUBuffer,
  runMean: GPUBuffer,
  runVar: GPUBuffer,
  s: BatchnormShape,
): void {
  batchnormStatistics(r, mean, invstd, x, runMean, runVar, s);
  normalise(r, y, x, gamma, beta, mean, invstd, s, false);
}

/**
 * The batch's mean and invstd [C] (biased variance), with runMean and runVar
 * updated in place: the statistics half of the training forward, shared with
 * the fused bn_relu_maxpool.
 */
export function batchnormStatistics(r: Recorder, mean: GPUBuffer, invstd: GPUBuffer, x: GPUBuffer, runMean: GPUBuffer, runVar: GPUBuffer, s: BatchnormShape): void {
  const plan = reducePlan(r, s);
  const eps = s.eps ?? BN_EPS;
  const partial = r.pool.acquire(2 * plan.chunks * s.c * 4, 'batchnorm partial');
  // One pass over x: the sums are taken about x's first row (a value of each
  // channel's own data, copied into mean), and batchnorm_forward_stats adds their mean
  // back. Centred on a sample K rather than on the mean, Σ(x − K)²/M − d² loses about
  // log2(1 + d²/var) bits to cancellation (d = mean − K), a few where K lies within a
  // few standard deviations of the mean; a first pass for the exact mean read x once
  // more (docs/PERFORMANCE.md).
  r.copy(x, 0, mean, 0, s.c * 4);
  reduce(r, partial, x, x, mean, invstd, s, plan, Mode.Shifted);
  r.dispatch(BATCHNORM_FORWARD_STATS, {
    params: { c: s.c, chunks: plan.chunks, inv_m: 1 / s.m, eps, momentum: s.momentum ?? BN_MOMENTUM },
    buffers: { partial, mean, invstd, running_mean: runMean, running_var: runVar },
    constants: { WG, VEC: vec(s) },
    workgroups: [channelGroups(s)],
  });
  r.releaseAfterSubmit(partial);
}

/** Inference forward: y = gamma (x - runMean) / sqrt(runVar + eps) + beta. */
export function batchnormForwardInference(
  r: Recorder,
  y: GPUBuffer,
  x: GPUBuffer,
  gamma: GPUBuffer,
  beta: GPUBuffer,
  runMean: GPUBuffer,
  runVar: GPUBuffer,
  s: BatchnormShape,
): void {
  normalise(r, y, x, gamma, beta, runMean, runVar, s, true);
}

function normalise(r: Recorder, y: GPUBuffer, x: GPUBuffer, gamma: GPUBuffer, beta: GPUBuffer, mean: GPUBuffer, scale: GPUBuffer, s: BatchnormShape, fromVar: boolean): void {
  const rowBytes = s.c * 4;
  for (const run of bindingRuns(r.gpu, s.m, [rowBytes])) {
    r.dispatch(BATCHNORM_FORWARD, {
      params: { m: run.count, c: s.c, from_var: fromVar ? 1 : 0, eps: s.eps ?? BN_EPS },
      buffers: { x: rowRange(x, run, rowBytes), gamma, beta, mean, scale, y: rowRange(y, run, rowBytes) },
      constants: { WG, ROWS, VEC: vec(s) },
      workgroups: elementwiseGroups(r, run.count, s),
    });
  }
}

/**
 * The second pass of the backward's column sums: sums [2, C] = (sum dy, sum dy·xhat)
 * from `chunks` partial sums [2, chunks, C], and dbeta += sums[0], dgamma += sums[1].
 * Shared with the fused bn_relu_maxpool backward, whose first pass runs over pooled elements.
 */
export function batchnormBackwardSums(r: Recorder, sums: GPUBuffer, dgamma: GPUBuffer, dbeta: GPUBuffer, partial: GPUBuffer, chunks: number, c: number): void {
  const s = { m: 0, c };
  r.dispatch(BATCHNORM_BACKWARD_STATS, {
    params: { c, chunks },
    buffers: { partial, sums, dgamma, dbeta },
    constants: { WG, VEC: vec(s) },
    workgroups: [channelGroups(s)],
  });
}

/**
 * Backward of the training forward: dx += ..., dgamma += sum dy xhat, dbeta += sum dy,
 * from the mean and invstd the forward saved.
 */
export function batchnormBackward(
  r: Recorder,
  dx: GPUBuffer,
  dgamma: GPUBuffer,
  dbeta: GPUBuffer,
  dy: GPUBuffer,
  x: GPUBuffer,
  mean: GPUBuffer,
  invstd: GPUBuffer,
  gamma: GPUBuffer,
  s: BatchnormShape,
  accumulate = true,
): void {
  const plan = reducePlan(r, s);
  const partial = r.pool.acquire(2 * plan.chunks * s.c * 4, 'batchnorm partial');
  const sums = r.pool.acquire(2 * s.c * 4, 'batchnorm sums');
  reduce(r, partial, dy, x, mean, invstd, s, plan, Mode.Backward);
  batchnormBackwardSums(r, sums, dgamma, dbeta, partial, plan.chunks, s.c);
  const rowBytes = s.c * 4;
  for (const run of bindingRuns(r.gpu, s.m, [rowBytes])) {
    const slice = (b: GPUBuffer) => rowRange(b, run, rowBytes);
    r.dispatch(BATCHNORM_BACKWARD, {
      params: { m: run.count, c: s.c, inv_m: 1 / s.m },
      buffers: { dy: slice(dy), x: slice(x), mean, invstd, gamma, sums, dx: slice(dx) },
      constants: { WG, ROWS, VEC: vec(s), ACCUMULATE: accumulate ? 1 : 0 },
      workgroups: elementwiseGroups(r, run.count, s),
    });
  }
  r.releaseAfterSubmit(partial);
  r.releaseAfterSubmit(sums);
}
