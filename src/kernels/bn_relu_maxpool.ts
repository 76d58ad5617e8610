// Batch norm → ReLU → max pooling fused into one pass over the activation (the
// tail of the report's conv blocks): the same results as batchnorm, relu and
// maxpool3d in turn, without writing and rereading the two full-size
// intermediates. Statistics come from batchnormStatistics in training, from the
// running averages in inference. Reference: src/ref/bn_relu_maxpool.ts.
// Both shaders load and store 4 channels (forward) or 4 pooled elements
// (backward) per vec4 where they can: the forward where C is a multiple of 4
// (its VEC override constant), the backward always, taking a tail of fewer than 4
// elements one at a time.
import { grid1d, rowRange, type KernelSpec, type Recorder } from './kernel.js';
import { BN_EPS } from './batchnorm.js';
import { maxpool3dOutShape, maxpool3dSampleRuns, type Maxpool3dShape } from './maxpool3d.js';

export interface BnReluMaxpoolShape extends Maxpool3dShape {
  /** Keras' default 1e-3 unless given. */
  eps?: number;
}

export const BN_RELU_MAXPOOL_FORWARD: KernelSpec = {
  shader: 'bn_relu_maxpool_forward',
  params: [...['n', 'd', 'h', 'w', 'c', 'od', 'oh', 'ow', 'from_var'].map((f) => [f, 'u32'] as const), ['eps', 'f32']],
  inputs: ['x', 'gamma', 'beta', 'mean', 'scale'],
  outputs: ['y', 'argmax'],
};

export const BN_RELU_MAXPOOL_BACKWARD: KernelSpec = {
  shader: 'bn_relu_maxpool_backward',
  params: [['count', 'u32']],
  inputs: ['dy', 'y', 'argmax'],
  outputs: ['dv'],
};

const WG = 64;
/** Output positions (along W) per invocation of the forward: its channels' parameters are loaded once for all. */
const POS = 4;

function pooledCount(s: Maxpool3dShape, n: number): number {
  const { od, oh, ow } = maxpool3dOutShape(s);
  return n * od * oh * ow * s.c;
}

/**
 * y = maxpool(relu(gamma (x - mean) k + beta)), argmax its flat indices into x
 * (into x's slice, for a sliced batch). `scale` is invstd (training) or, with
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
  if (s.pd < 1 || s.ph < 1 || s.pw < 1) throw new Error('bn_relu_maxpool: window sizes must be positive');
  const out = maxpool3dOutShape(s);
  const { runs, xBytes, yBytes } = maxpool3dSampleRuns(r, s);
  for (const run of runs) {
    r.dispatch(BN_RELU_MAXPOOL_FORWARD, {
      params: { n: run.count, d: s.d, h: s.h, w: s.w, c: s.c, ...out, from_var: fromVar ? 1 : 0, eps: s.eps ?? BN_EPS },
      buffers: { x: rowRange(x, run, xBytes), gamma, beta, mean, scale, y: rowRange(y, run, yBytes), argmax: rowRange(argmax, run, yBytes) },
      constants: { WG, POS, VEC: s.c % 4 === 0 ? 1 : 0, PD: s.pd, PH: s.ph, PW: s.pw },
      workgroups: grid1d(r.gpu, run.count * out.od * out.oh * Math.ceil(out.ow / POS) * Math.ceil(s.c / 4), WG),
    });
  }
}

/** dv[argmax[o]] += dy[o] where y[o] > 0: the gradient at the batch norm's output (dv zeroed by the caller). */
export function bnReluMaxpoolBackward(r: Recorder, dv: GPUBuffer, dy: GPUBuffer, y: GPUBuffer, argmax: GPUBuffer, s: Maxpool3dShape): void {
  const { runs, xBytes, yBytes } = maxpool3dSampleRuns(r, s);
  for (const run of runs) {
    const count = pooledCount(s, run.count);
    const slice = (b: GPUBuffer, bytes: number) => rowRange(b, run, bytes);
    r.dispatch(BN_RELU_MAXPOOL_BACKWARD, {
      params: { count },
      buffers: { dy: slice(dy, yBytes), y: slice(y, yBytes), argmax: slice(argmax, yBytes), dv: slice(dv, xBytes) },
      constants: { WG },
      workgroups: grid1d(r.gpu, Math.ceil(count / 4), WG),
    });
  }
}
