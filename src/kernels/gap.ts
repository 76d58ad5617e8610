// Global average pooling over all positions of a channel on the GPU:
// [N, S, C] -> [N, C] with S = D*H*W. Reference: src/ref/gap.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export interface GapShape {
  n: number;
  /** Positions per channel: D*H*W. */
  spatial: number;
  c: number;
}

const PARAMS = [
  ['n', 'u32'],
  ['s', 'u32'],
  ['c', 'u32'],
] as const;

export const GAP_FORWARD: KernelSpec = { shader: 'gap_forward', params: PARAMS, inputs: ['x'], outputs: ['y'] };
export const GAP_BACKWARD: KernelSpec = { shader: 'gap_backward', params: PARAMS, inputs: ['dy'], outputs: ['dx'] };

const WG = 256;

/** y[n, c] = mean over s of x[n, s, c]. */
export function gapForward(r: Recorder, y: GPUBuffer, x: GPUBuffer, s: GapShape): void {
  r.dispatch(GAP_FORWARD, { params: { n: s.n, s: s.spatial, c: s.c }, buffers: { x, y }, constants: { WG }, workgroups: grid1d(r.gpu, s.n * s.c, WG) });
}

/** dx[n, s, c] += dy[n, c] / S (dx = … with `accumulate` false, for a gradient's first writer). */
export function gapBackward(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, s: GapShape, accumulate = true): void {
  r.dispatch(GAP_BACKWARD, { params: { n: s.n, s: s.spatial, c: s.c }, buffers: { dy, dx }, constants: { WG, ACCUMULATE: accumulate ? 1 : 0 }, workgroups: grid1d(r.gpu, s.n * s.spatial * s.c, WG) });
}
