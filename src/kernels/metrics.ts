// Classification metrics on the GPU: argmax per row, confusion-matrix counts
// (atomic adds, accumulating across batches) and accuracy from the counts' diagonal.
// Reference: src/ref/metrics.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export interface MetricsShape {
  /** Rows (samples). */
  n: number;
  /** Classes. */
  c: number;
}

const NC = [
  ['n', 'u32'],
  ['c', 'u32'],
] as const;

export const METRICS_ARGMAX: KernelSpec = { shader: 'metrics_argmax', params: NC, inputs: ['probs'], outputs: ['out'] };
export const METRICS_CONFUSION: KernelSpec = { shader: 'metrics_confusion', params: NC, inputs: ['pred', 'labels'], outputs: ['counts'] };
export const METRICS_ACCURACY: KernelSpec = { shader: 'metrics_accuracy', params: [['c', 'u32']], inputs: ['counts'], outputs: ['out'] };

const WG = 64;

/** out[i] (u32) = index of the largest entry of row i of probs [N, C] (the first on ties). */
export function argmaxRows(r: Recorder, out: GPUBuffer, probs: GPUBuffer, s: MetricsShape): void {
  r.dispatch(METRICS_ARGMAX, { params: { ...s }, buffers: { probs, out }, constants: { WG }, workgroups: grid1d(r.gpu, s.n, WG) });
}

/** counts[label, pred] += 1 per sample (u32 [C, C], row = true class); the caller zeroes counts. */
export function confusionCounts(r: Recorder, counts: GPUBuffer, pred: GPUBuffer, labels: GPUBuffer, s: MetricsShape): void {
  r.dispatch(METRICS_CONFUSION, { params: { ...s }, buffers: { pred, labels, counts }, constants: { WG }, workgroups: grid1d(r.gpu, s.n, WG) });
}

/** out[0] (f32) = trace(counts) / sum(counts), 0 for an empty matrix. */
export function accuracyFromCounts(r: Recorder, out: GPUBuffer, counts: GPUBuffer, c: number): void {
  r.dispatch(METRICS_ACCURACY, { params: { c }, buffers: { counts, out }, constants: { WG }, workgroups: [1] });
}
