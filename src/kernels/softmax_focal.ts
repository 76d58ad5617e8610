// Softmax + focal loss fused with its gradient on the GPU (Keras
// CategoricalFocalCrossentropy with one-hot targets, from logits, mean over the
// batch). gamma 0 with alpha 1 is plain cross-entropy. Reference: src/ref/softmax_focal.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export interface SoftmaxFocalShape {
  /** Rows (batch). */
  n: number;
  /** Classes. */
  classes: number;
  /** Focusing parameter; 0 gives cross-entropy. Keras' default is 2. */
  gamma: number;
  /** Probability clip, Keras' epsilon: 1e-7 unless given. */
  eps?: number;
}

export const SOFTMAX_FOCAL: KernelSpec = {
  shader: 'softmax_focal_forward',
  params: [
    ['n', 'u32'],
    ['c', 'u32'],
    ['gamma', 'f32'],
    ['eps', 'f32'],
    ['inv_n', 'f32'],
  ],
  inputs: ['logits', 'labels', 'alpha'],
  outputs: ['loss', 'probs', 'dlogits'],
};

const WG = 64;

/**
 * loss [N] per sample, probs [N, C] = softmax(logits), and dlogits [N, C] =
 * d(mean loss)/d logits, all overwritten. labels [N] u32, alpha [C].
 */
export function softmaxFocalLoss(
  r: Recorder,
  loss: GPUBuffer,
  probs: GPUBuffer,
  dlogits: GPUBuffer,
  logits: GPUBuffer,
  labels: GPUBuffer,
  alpha: GPUBuffer,
  s: SoftmaxFocalShape,
): void {
  r.dispatch(SOFTMAX_FOCAL, {
    params: { n: s.n, c: s.classes, gamma: s.gamma, eps: s.eps ?? 1e-7, inv_n: 1 / s.n },
    buffers: { logits, labels, alpha, loss, probs, dlogits },
    constants: { WG },
    workgroups: grid1d(r.gpu, s.n, WG),
  });
}
