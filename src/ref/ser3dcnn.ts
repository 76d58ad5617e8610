// The whole network in float64 on the CPU, composed from the ops' references:
// forward in training mode (batch statistics, dropout masks from the same
// counter RNG) and backward by hand, in reverse. The autograd's gradients are
// tested against this.
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dForwardRef } from './conv3d.js';
import { batchnormBackwardRef, batchnormForwardTrainRef } from './batchnorm.js';
import { reluBackwardRef, reluForwardRef } from './relu.js';
import { maxpool3dBackwardRef, maxpool3dForwardRef } from './maxpool3d.js';
import { dropoutBackwardRef, dropoutForwardRef } from './dropout.js';
import { gapBackwardRef, gapForwardRef } from './gap.js';
import { denseBackwardRef, denseForwardRef } from './dense.js';
import { softmaxFocalRef } from './softmax_focal.js';
import type { Conv3dShape } from '../kernels/conv3d_shape.js';
import { CONV_DROPOUT, DENSE_DROPOUT, dropoutLayerSeed } from '../model/architecture.js';

export type Weights = Record<string, Float64Array>;
type Shape = number[];


export interface RefResult {
  logits: Float64Array;
  meanLoss: number;
  grads: Weights;
}

/**
 * Forward and backward of the network for x [N, D, H, W, 1] in training mode.
 * `convs` and `denses` are the layer counts; weight names as in Ser3dCnn.
 * Dropout seeds: dropoutLayerSeed(seed, layer index), at `step`, as the GPU model's.
 */
export function ser3dcnnRef(w: Weights, x: Float64Array, xShape: Shape, labels: ArrayLike<number>, alpha: ArrayLike<number>, gamma: number, seed: number, step: number): RefResult {
  const back: (() => void)[] = [];
  const grads: Weights = {};
  const acc = (name: string, g: Float64Array): void => {
    grads[name] = grads[name] ? grads[name]!.map((v, i) => v + g[i]!) : g;
  };
  let layer = 0;
  let h = x;
  let shape = xShape;
  // Each layer returns its output and pushes a closure mapping d(out) to d(in).
  let grad: Float64Array = new Float64Array(0);
  const push = (f: (dy: Float64Array) => Float64Array): void => {
    back.push(() => {
      grad = f(grad);
    });
  };

  const bn = (name: string): void => {
    const c = shape[shape.length - 1]!;
    const s = { m: h.length / c, c };
    const xin = h;
    const r = batchnormForwardTrainRef(xin, w[`${name}.gamma`]!, w[`${name}.beta`]!, w[`${name}.moving_mean`]!, w[`${name}.moving_variance`]!, s);
    h = r.y;
    push((dy) => {
      const g = batchnormBackwardRef(dy, xin, r.mean, r.invstd, w[`${name}.gamma`]!, s);
      acc(`${name}.gamma`, g.dgamma);
      acc(`${name}.beta`, g.dbeta);
      return g.dx;
    });
  };
  const relu = (): void => {
    const y = reluForwardRef(h);
    h = y;
    push((dy) => reluBackwardRef(dy, y));
  };
  const dropout = (rate: number): void => {
    const s = dropoutLayerSeed(seed, layer++);
    h = dropoutForwardRef(h, rate, s, step);
    push((dy) => dropoutBackwardRef(dy, rate, s, step));
  };

  for (let i = 1; `conv${i}.kernel` in w; i++) {
    const k = w[`conv${i}.kernel`]!;
    const cout = w[`conv${i}.bias`]!.length;
    const [n, d, hh, ww, cin] = shape as [number, number, number, number, number];
    const ksz = kernelSize(k.length, cin, cout, i);
    const s: Conv3dShape = { n, d, h: hh, w: ww, cin, cout, kd: ksz[0], kh: ksz[1], kw: ksz[2], padding: 'same' };
    const xin = h;
    h = conv3dForwardRef(xin, k, w[`conv${i}.bias`]!, s);
    shape = [n, d, hh, ww, cout];
    push((dy) => {
      const g = conv3dBackwardWeightRef(dy, xin, s);
      acc(`conv${i}.kernel`, g.dw);
      acc(`conv${i}.bias`, g.db);
      return conv3dBackwardInputRef(dy, k, s);
    });
    bn(`bn${i}`);
    if (`conv${i + 1}.kernel` in w) {
      relu();
      const ps = { n, d, h: hh, w: ww, c: cout, pd: 1, ph: 2, pw: 2 };
      const r = maxpool3dForwardRef(h, ps);
      h = r.y;
      shape = [n, d, Math.floor(hh / 2), Math.floor(ww / 2), cout];
      push((dy) => maxpool3dBackwardRef(dy, r.argmax, ps));
      dropout(CONV_DROPOUT[i - 1]!);
    }
  }
  {
    const n = shape[0]!;
    const c = shape[shape.length - 1]!;
    const gs = { n, spatial: h.length / (n * c), c };
    h = gapForwardRef(h, gs);
    shape = [n, c];
    push((dy) => gapBackwardRef(dy, gs));
  }
  const convCount = Object.keys(w).filter((k) => /^conv\d+\.kernel$/.test(k)).length;
  for (let i = 1; `dense${i}.kernel` in w; i++) {
    const [m, k] = shape as [number, number];
    const nOut = w[`dense${i}.bias`]!.length;
    const s = { m, k, n: nOut };
    const xin = h;
    const wk = w[`dense${i}.kernel`]!;
    h = denseForwardRef(xin, wk, w[`dense${i}.bias`]!, s);
    shape = [m, nOut];
    push((dy) => {
      const g = denseBackwardRef(dy, xin, wk, s);
      acc(`dense${i}.kernel`, g.dw);
      acc(`dense${i}.bias`, g.db);
      return g.dx;
    });
    if (`dense${i + 1}.kernel` in w) {
      bn(`bn${convCount + i}`);
      relu();
      dropout(DENSE_DROPOUT[i - 1]!);
    }
  }
  const [n, classes] = shape as [number, number];
  const loss = softmaxFocalRef(h, labels, alpha, { n, classes, gamma });
  grad = loss.dlogits;
  for (let i = back.length - 1; i >= 0; i--) back[i]!();
  return { logits: h, meanLoss: loss.meanLoss, grads };
}

/** The report's kernel sizes: 1×5×5 first, 1×1×1 last, 1×3×3 between. */
function kernelSize(size: number, cin: number, cout: number, layer: number): [number, number, number] {
  const taps = size / (cin * cout);
  const side = Math.round(Math.sqrt(taps));
  if (side * side !== taps) throw new Error(`conv${layer}: ${taps} taps is not a square 1×k×k kernel`);
  return [1, side, side];
}
