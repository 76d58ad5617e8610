// Batch normalisation in float64 over x viewed as [M, C], Keras semantics:
// biased batch variance, eps 1e-3, running = momentum * running + (1 - momentum) * batch.
import { BN_EPS, BN_MOMENTUM } from '../model/architecture.js';

export interface BatchnormRefShape {
  m: number;
  c: number;
  eps?: number;
  momentum?: number;
}

/** Training forward; returns y, the saved mean and invstd, and the updated running statistics. */
export function batchnormForwardTrainRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  runMean: ArrayLike<number>,
  runVar: ArrayLike<number>,
  s: BatchnormRefShape,
): { y: Float64Array; mean: Float64Array; invstd: Float64Array; runMean: Float64Array; runVar: Float64Array } {
  const { m, c } = s;
  const eps = s.eps ?? BN_EPS;
  const mom = s.momentum ?? BN_MOMENTUM;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let r = 0; r < m; r++) for (let j = 0; j < c; j++) mean[j]! += x[r * c + j]! / m;
  for (let r = 0; r < m; r++) for (let j = 0; j < c; j++) variance[j]! += (x[r * c + j]! - mean[j]!) ** 2 / m;
  const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(m * c);
  for (let r = 0; r < m; r++) for (let j = 0; j < c; j++) y[r * c + j] = gamma[j]! * (x[r * c + j]! - mean[j]!) * invstd[j]! + beta[j]!;
  return {
    y,
    mean,
    invstd,
    runMean: Float64Array.from(runMean, (v, j) => mom * v + (1 - mom) * mean[j]!),
    runVar: Float64Array.from(runVar, (v, j) => mom * v + (1 - mom) * variance[j]!),
  };
}

/** Inference forward with the running statistics. */
export function batchnormForwardInferenceRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  runMean: ArrayLike<number>,
  runVar: ArrayLike<number>,
  s: BatchnormRefShape,
): Float64Array {
  const eps = s.eps ?? BN_EPS;
  return Float64Array.from(x, (v, i) => {
    const j = i % s.c;
    return (gamma[j]! * (v - runMean[j]!)) / Math.sqrt(runVar[j]! + eps) + beta[j]!;
  });
}

/** Gradients of the training forward for dy, from the saved mean and invstd. */
export function batchnormBackwardRef(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  mean: ArrayLike<number>,
  invstd: ArrayLike<number>,
  gamma: ArrayLike<number>,
  s: BatchnormRefShape,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const { m, c } = s;
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let r = 0; r < m; r++)
    for (let j = 0; j < c; j++) {
      const i = r * c + j;
      dbeta[j]! += dy[i]!;
      dgamma[j]! += dy[i]! * (x[i]! - mean[j]!) * invstd[j]!;
    }
  const dx = new Float64Array(m * c);
  for (let r = 0; r < m; r++)
    for (let j = 0; j < c; j++) {
      const i = r * c + j;
      const xhat = (x[i]! - mean[j]!) * invstd[j]!;
      dx[i] = gamma[j]! * invstd[j]! * (dy[i]! - (dbeta[j]! + xhat * dgamma[j]!) / m);
    }
  return { dx, dgamma, dbeta };
}
