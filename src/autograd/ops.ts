// Differentiable ops: each runs its forward kernels now and records a closure
// that runs its backward kernels later. Shapes are channels-last (docs/KERNELS.md).
import { Graph, Parameter, State, Tensor } from './tensor.js';
import { BN_EPS, BN_MOMENTUM, dropoutLayerSeed } from '../model/architecture.js';
import { conv3dForward, conv3dBackwardInput, conv3dBackwardWeight, conv3dOutShape, type Conv3dShape } from '../kernels/conv3d.js';
import { batchnormForwardTrain, batchnormForwardInference, batchnormBackward, batchnormStatistics } from '../kernels/batchnorm.js';
import { bnReluMaxpoolForward, bnReluMaxpoolBackward } from '../kernels/bn_relu_maxpool.js';
import { reluForward, reluBackward } from '../kernels/relu.js';
import { dropoutForward, dropoutBackward } from '../kernels/dropout.js';
import { gapForward, gapBackward } from '../kernels/gap.js';
import { denseForward, denseBackwardInput, denseBackwardWeight } from '../kernels/dense.js';
import { softmaxFocalLoss } from '../kernels/softmax_focal.js';

/** 3-D convolution of x [N, D, H, W, Cin] with w [kd, kh, kw, Cin, Cout] plus bias. */
export function conv3d(g: Graph, x: Tensor, w: Parameter, b: Parameter, padding: 'same' | 'valid'): Tensor {
  const [n, d, h, wd, cin] = x.shape as [number, number, number, number, number];
  const [kd, kh, kw, , cout] = w.shape as [number, number, number, number, number];
  const s: Conv3dShape = { n, d, h, w: wd, cin, cout, kd, kh, kw, padding };
  const y = g.tensor(conv3dOutShape(s), true, 'conv3d');
  // Training: Winograd's transformed input is kept for backward_weight (in a step-lifetime buffer).
  const keep = g.training && !g.forwardOnly ? { alloc: (bytes: number) => g.scratch(bytes / 4) } : undefined;
  const kept = conv3dForward(g.r, y.buffer, x.buffer, w.buffer, b.buffer, s, {}, keep);
  g.record(y, () => {
    const dy = g.gradOf(y);
    conv3dBackwardWeight(g.r, w.grad, b.grad, dy, x.buffer, s, {}, kept);
    if (x.requiresGrad) {
      const dx = g.gradToWrite(x);
      conv3dBackwardInput(g.r, dx.buffer, dy, w.buffer, s, {}, dx.accumulate);
    }
  });
  return y;
}

/** Where batch norm's backward writes d(loss)/dx: x's gradient, or a throwaway buffer when x needs none (dγ and dβ are still wanted). */
function inputGradToWrite(g: Graph, x: Tensor): { buffer: GPUBuffer; accumulate: boolean } {
  return x.requiresGrad ? g.gradToWrite(x) : { buffer: g.scratch(x.size), accumulate: false };
}

export interface BatchNormParams {
  gamma: Parameter;
  beta: Parameter;
  runningMean: State;
  runningVar: State;
}

/** Batch norm over every position of each channel (the last axis); Keras' momentum and epsilon by default. */
export function batchnorm(g: Graph, x: Tensor, p: BatchNormParams, momentum = BN_MOMENTUM, eps = BN_EPS): Tensor {
  const c = x.shape[x.shape.length - 1]!;
  const m = x.size / c;
  const s = { m, c, momentum: g.bnMomentum ?? momentum, eps };
  const y = g.tensor(x.shape, true, 'batchnorm');
  if (!g.training) {
    batchnormForwardInference(g.r, y.buffer, x.buffer, p.gamma.buffer, p.beta.buffer, p.runningMean.buffer, p.runningVar.buffer, s);
    return y;
  }
  const mean = g.scratch(c);
  const invstd = g.scratch(c);
  batchnormForwardTrain(g.r, y.buffer, mean, invstd, x.buffer, p.gamma.buffer, p.beta.buffer, p.runningMean.buffer, p.runningVar.buffer, s);
  g.record(y, () => {
    const dx = inputGradToWrite(g, x);
    batchnormBackward(g.r, dx.buffer, p.gamma.grad, p.beta.grad, g.gradOf(y), x.buffer, mean, invstd, p.gamma.buffer, s, dx.accumulate);
  });
  return y;
}

/**
 * maxpool3d(relu(batchnorm(x))) in one pass (the tail of the report's conv blocks):
 * the three ops' results without their two full-size intermediates. With
 * `dropoutRate` (null: none) the block's dropout follows in the same pass, as the
 * dropout op would apply it (the same layer index, seed and masks). Backward routes the
 * pooled gradient to the window maxima that were positive and kept, and through batch
 * norm in one pass, without a full-size intermediate either.
 */
export function batchnormReluMaxpool(
  g: Graph,
  x: Tensor,
  p: BatchNormParams,
  pool: readonly [number, number, number],
  dropoutRate: number | null = null,
  momentum = BN_MOMENTUM,
  eps = BN_EPS,
): Tensor {
  const [n, d, h, w, c] = x.shape as [number, number, number, number, number];
  // A dropout takes its layer index whether or not it applies (inference, recalibration), as the dropout op does.
  const layer = dropoutRate === null ? -1 : g.dropoutIndex++;
  const drop = dropoutRate !== null && dropoutRate > 0 && g.training && !g.noDropout ? { rate: dropoutRate, seed: dropoutLayerSeed(g.seed, layer), step: g.step } : undefined;
  const s = { n, d, h, w, c, pd: pool[0], ph: pool[1], pw: pool[2], eps, dropout: drop };
  const y = g.tensor([n, Math.floor(d / pool[0]), Math.floor(h / pool[1]), Math.floor(w / pool[2]), c], true, 'bn_relu_maxpool');
  const argmax = g.scratch(y.size);
  if (!g.training) {
    bnReluMaxpoolForward(g.r, y.buffer, argmax, x.buffer, p.gamma.buffer, p.beta.buffer, p.runningMean.buffer, p.runningVar.buffer, s, true);
    return y;
  }
  const bn = { m: x.size / c, c, momentum: g.bnMomentum ?? momentum, eps };
  const mean = g.scratch(c);
  const invstd = g.scratch(c);
  batchnormStatistics(g.r, mean, invstd, x.buffer, p.runningMean.buffer, p.runningVar.buffer, bn);
  bnReluMaxpoolForward(g.r, y.buffer, argmax, x.buffer, p.gamma.buffer, p.beta.buffer, mean, invstd, s, false);
  g.record(y, () => {
    const dx = inputGradToWrite(g, x);
    bnReluMaxpoolBackward(g.r, dx.buffer, p.gamma.grad, p.beta.grad, g.gradOf(y), argmax, x.buffer, mean, invstd, p.gamma.buffer, s, dx.accumulate);
  });
  return y;
}

export function relu(g: Graph, x: Tensor): Tensor {
  const y = g.tensor(x.shape, true, 'relu');
  reluForward(g.r, y.buffer, x.buffer, x.size);
  g.record(y, () => {
    const dx = g.gradToWrite(x);
    reluBackward(g.r, dx.buffer, g.gradOf(y), y.buffer, x.size, dx.accumulate);
  });
  return y;
}

/** Inverted dropout; the identity outside training. Masks come from a counter RNG keyed by (seed, step, layer). */
export function dropout(g: Graph, x: Tensor, rate: number): Tensor {
  const layer = g.dropoutIndex++;
  if (!g.training || rate === 0 || g.noDropout) return x;
  const s = { n: x.size, rate, seed: dropoutLayerSeed(g.seed, layer), step: g.step };
  const y = g.tensor(x.shape, true, 'dropout');
  dropoutForward(g.r, y.buffer, x.buffer, s);
  g.record(y, () => {
    const dx = g.gradToWrite(x);
    dropoutBackward(g.r, dx.buffer, g.gradOf(y), s, dx.accumulate);
  });
  return y;
}

/** Global average pooling over (D, H, W): [N, D, H, W, C] → [N, C]. */
export function globalAvgPool(g: Graph, x: Tensor): Tensor {
  const n = x.shape[0]!;
  const c = x.shape[x.shape.length - 1]!;
  const s = { n, spatial: x.size / (n * c), c };
  const y = g.tensor([n, c], true, 'gap');
  gapForward(g.r, y.buffer, x.buffer, s);
  g.record(y, () => {
    const dx = g.gradToWrite(x);
    gapBackward(g.r, dx.buffer, g.gradOf(y), s, dx.accumulate);
  });
  return y;
}

/** x [M, K] · w [K, N] + b. */
export function dense(g: Graph, x: Tensor, w: Parameter, b: Parameter): Tensor {
  const [m, k] = x.shape as [number, number];
  const nOut = w.shape[1]!;
  const s = { m, k, n: nOut };
  const y = g.tensor([m, nOut], true, 'dense');
  denseForward(g.r, y.buffer, x.buffer, w.buffer, b.buffer, s);
  g.record(y, () => {
    const dy = g.gradOf(y);
    denseBackwardWeight(g.r, w.grad, b.grad, dy, x.buffer, s);
    if (x.requiresGrad) {
      const dx = g.gradToWrite(x);
      denseBackwardInput(g.r, dx.buffer, dy, w.buffer, s, dx.accumulate);
    }
  });
  return y;
}

export interface LossOutputs {
  /** Per-sample loss [N]. */
  loss: GPUBuffer;
  /** Softmax probabilities [N, classes]. */
  probs: GPUBuffer;
}

/**
 * Softmax + focal loss (gamma 0 and alpha 1 give cross-entropy), fused with its
 * gradient: the kernel writes d(mean loss)/d(logits) straight into the logits'
 * gradient buffer, which seeds backward.
 */
export function softmaxFocal(g: Graph, logits: Tensor, labels: GPUBuffer, alpha: GPUBuffer, gamma: number): LossOutputs {
  const [n, classes] = logits.shape as [number, number];
  const loss = g.scratch(n);
  const probs = g.scratch(n * classes);
  const dlogits = g.training && logits.requiresGrad ? g.gradOf(logits) : g.scratch(n * classes);
  softmaxFocalLoss(g.r, loss, probs, dlogits, logits.buffer, labels, alpha, { n, classes, gamma });
  return { loss, probs };
}

