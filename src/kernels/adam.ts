// Adam update in place on the GPU (Keras' formulation). The bias-corrected step
// size is computed on the CPU in float64. Reference: src/ref/adam.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

/** Keras' bias-corrected step size lr · sqrt(1 − β2^t) / (1 − β1^t), in float64. */
function stepSize(s: AdamShape): number {
  return (s.lr * Math.sqrt(1 - s.beta2 ** s.step)) / (1 - s.beta1 ** s.step);
}

export interface AdamShape {
  n: number;
  lr: number;
  beta1: number;
  beta2: number;
  /** Keras' default is 1e-7. */
  eps: number;
  /** 1 for the first update. */
  step: number;
}

export const ADAM_UPDATE: KernelSpec = {
  shader: 'adam_update',
  params: [
    ['n', 'u32'],
    ['lr_t', 'f32'],
    ['beta1', 'f32'],
    ['beta2', 'f32'],
    ['one_minus_beta1', 'f32'],
    ['one_minus_beta2', 'f32'],
    ['eps', 'f32'],
  ],
  inputs: ['grad'],
  outputs: ['param', 'm', 'v'],
};

const WG = 256;

/** Updates param, m and v in place from grad. */
export function adamUpdate(r: Recorder, param: GPUBuffer, grad: GPUBuffer, m: GPUBuffer, v: GPUBuffer, s: AdamShape): void {
  if (s.step < 1) throw new Error(`adam: step ${s.step} must be >= 1`);
  r.dispatch(ADAM_UPDATE, {
    params: { n: s.n, lr_t: stepSize(s), beta1: s.beta1, beta2: s.beta2, one_minus_beta1: 1 - s.beta1, one_minus_beta2: 1 - s.beta2, eps: s.eps },
    buffers: { grad, param, m, v },
    constants: { WG },
    workgroups: grid1d(r.gpu, s.n, WG),
  });
}
