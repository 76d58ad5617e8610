// Inverted dropout on the GPU with a counter-based mask: the mask is a hash of
// (seed, step, element index), so backward regenerates it instead of storing it.
// Reference: src/ref/dropout.ts, an independent implementation of the same mask
// function (test/dropout.test.ts compares the two bit for bit).
import { bindingRuns, grid1d, rowRange, type KernelSpec, type Recorder } from './kernel.js';

export interface DropoutShape {
  n: number;
  /** Probability of dropping an element, in [0, 1). */
  rate: number;
  seed: number;
  /** Training step: a new mask every step from the same seed. */
  step: number;
  /** false (inference) makes the op the identity, as rate 0 does. */
  training?: boolean;
}

export const DROPOUT: KernelSpec = {
  shader: 'dropout',
  params: [
    ['n', 'u32'],
    ['threshold', 'u32'],
    ['scale', 'f32'],
    ['seed', 'u32'],
    ['step', 'u32'],
    ['base', 'u32'],
  ],
  inputs: ['src'],
  outputs: ['dst'],
};

const WG = 64;

/**
 * The mask's threshold and the kept elements' scale for a rate: the top 24 bits of the
 * hash are compared with round(rate · 2^24), so P(keep) = 1 − rate; inverted dropout
 * scales by 1 / (1 − rate). Shared with the dropout fused into bn_relu_maxpool.
 */
export function dropoutConstants(rate: number): { threshold: number; scale: number } {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate ${rate} must lie in [0, 1)`);
  return { threshold: Math.min(1 << 24, Math.round(rate * (1 << 24))), scale: 1 / (1 - rate) };
}

function dispatchDropout(r: Recorder, dst: GPUBuffer, src: GPUBuffer, s: DropoutShape, accumulate: boolean): void {
  const rate = s.training === false ? 0 : s.rate;
  const { threshold, scale } = dropoutConstants(rate);
  // Slices of a tensor larger than one binding hash their global element indices, so the mask does not depend on slicing.
  for (const run of bindingRuns(r.gpu, s.n, [4])) {
    r.dispatch(DROPOUT, {
      params: { n: run.count, threshold, scale, seed: s.seed >>> 0, step: s.step >>> 0, base: run.start },
      buffers: { src: rowRange(src, run, 4), dst: rowRange(dst, run, 4) },
      constants: { WG, ACCUMULATE: accumulate ? 1 : 0 },
      // One invocation per 4 elements (vec4 loads and stores).
      workgroups: grid1d(r.gpu, Math.ceil(run.count / 4), WG),
    });
  }
}

/** y = x * mask / (1 - rate); the identity at inference. */
export function dropoutForward(r: Recorder, y: GPUBuffer, x: GPUBuffer, s: DropoutShape): void {
  dispatchDropout(r, y, x, s, false);
}

/** dx += dy * mask / (1 - rate), with the mask of the forward pass of the same (seed, step). */
export function dropoutBackward(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, s: DropoutShape, accumulate = true): void {
  dispatchDropout(r, dx, dy, s, accumulate);
}
