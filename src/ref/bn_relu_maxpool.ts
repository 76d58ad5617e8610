// The fused conv-block tail in float64, as the composition it replaces:
// batch norm (training statistics or running ones) → ReLU → max pooling.
import { BN_EPS } from '../model/architecture.js';
import { batchnormBackwardRef, batchnormForwardInferenceRef, batchnormForwardTrainRef } from './batchnorm.js';
import { reluBackwardRef, reluForwardRef } from './relu.js';
import { maxpool3dBackwardRef, maxpool3dForwardRef } from './maxpool3d.js';
import type { Maxpool3dShape } from '../kernels/maxpool3d_shape.js';

export interface BnReluMaxpoolRef {
  y: Float64Array;
  /** Batch statistics of the training forward (running ones in inference). */
  mean: Float64Array;
  invstd: Float64Array;
  /** Flat index into x of each output's window maximum, or BN_RELU_MAXPOOL_NONE_REF where the ReLU closed (y = 0), as the GPU forward writes it. */
  argmax: Uint32Array;
  /** Pooled gradient dy → gradients of x, gamma and beta (training forward only). */
  backward: (dy: ArrayLike<number>) => { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array };
}

/** argmax where the ReLU closed: no element gets a gradient. */
export const BN_RELU_MAXPOOL_NONE_REF = 0xffffffff;

export function bnReluMaxpoolRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  runMean: ArrayLike<number>,
  runVar: ArrayLike<number>,
  s: Maxpool3dShape & { eps?: number },
  training: boolean,
): BnReluMaxpoolRef {
  const bn = { m: x.length / s.c, c: s.c, eps: s.eps };
  const t = training ? batchnormForwardTrainRef(x, gamma, beta, runMean, runVar, bn) : null;
  const v = t ? t.y : batchnormForwardInferenceRef(x, gamma, beta, runMean, runVar, bn);
  const r = reluForwardRef(v);
  const p = maxpool3dForwardRef(r, s);
  const eps = s.eps ?? BN_EPS;
  return {
    y: p.y,
    mean: t ? t.mean : Float64Array.from(runMean),
    invstd: t ? t.invstd : Float64Array.from(runVar, (q) => 1 / Math.sqrt(q + eps)),
    argmax: Uint32Array.from(p.argmax, (at, o) => (p.y[o]! > 0 ? at : BN_RELU_MAXPOOL_NONE_REF)),
    backward: (dy) => {
      if (!t) throw new Error('bnReluMaxpoolRef: backward needs the training forward');
      const dr = maxpool3dBackwardRef(dy, p.argmax, s);
      return batchnormBackwardRef(reluBackwardRef(dr, r), x, t.mean, t.invstd, gamma, bn);
    },
  };
}
