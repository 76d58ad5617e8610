// 3-D max pooling (window = stride, no padding, floor) on the GPU, channels-last.
// Forward saves the argmax (flat u32 index into x) that backward routes dy to.
// Reference: src/ref/maxpool3d.ts.
import { bindingRuns, grid1d, rowRange, type KernelSpec, type Recorder, type RowRun } from './kernel.js';

import { maxpool3dOutShape, type Maxpool3dShape } from './maxpool3d_shape.js';

export { maxpool3dOutShape, type Maxpool3dShape };

export const MAXPOOL3D_FORWARD: KernelSpec = {
  shader: 'maxpool3d_forward',
  params: ['n', 'd', 'h', 'w', 'c', 'pd', 'ph', 'pw', 'od', 'oh', 'ow'].map((f) => [f, 'u32'] as const),
  inputs: ['x'],
  outputs: ['y', 'argmax'],
};

export const MAXPOOL3D_BACKWARD: KernelSpec = {
  shader: 'maxpool3d_backward',
  params: [['count', 'u32']],
  inputs: ['dy', 'argmax'],
  outputs: ['dx'],
};

const WG = 256;

function outCount(s: Maxpool3dShape): number {
  const { od, oh, ow } = maxpool3dOutShape(s);
  return s.n * od * oh * ow * s.c;
}

/**
 * Slices of samples for a batch larger than one storage binding; forward and
 * backward slice alike, so argmax indices (relative to their slice of x) route
 * back to the same slice. Shared with the fused bn_relu_maxpool.
 */
export function maxpool3dSampleRuns(r: Recorder, s: Maxpool3dShape): { runs: RowRun[]; xBytes: number; yBytes: number } {
  const { od, oh, ow } = maxpool3dOutShape(s);
  const xBytes = s.d * s.h * s.w * s.c * 4;
  const yBytes = od * oh * ow * s.c * 4;
  return { runs: bindingRuns(r.gpu, s.n, [xBytes, yBytes]), xBytes, yBytes };
}

/** y = window maxima [N, OD, OH, OW, C]; argmax = their flat indices into x (into its slice, for a sliced batch). */
export function maxpool3dForward(r: Recorder, y: GPUBuffer, argmax: GPUBuffer, x: GPUBuffer, s: Maxpool3dShape): void {
  if (s.pd < 1 || s.ph < 1 || s.pw < 1) throw new Error('maxpool3d: window sizes must be positive');
  const { runs, xBytes, yBytes } = maxpool3dSampleRuns(r, s);
  for (const run of runs) {
    const sliced = { ...s, n: run.count };
    r.dispatch(MAXPOOL3D_FORWARD, {
      params: { ...sliced, ...maxpool3dOutShape(s) },
      buffers: { x: rowRange(x, run, xBytes), y: rowRange(y, run, yBytes), argmax: rowRange(argmax, run, yBytes) },
      constants: { WG },
      workgroups: grid1d(r.gpu, outCount(sliced), WG),
    });
  }
}

/** dx[argmax[o]] += dy[o]. */
export function maxpool3dBackward(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, argmax: GPUBuffer, s: Maxpool3dShape): void {
  const { runs, xBytes, yBytes } = maxpool3dSampleRuns(r, s);
  for (const run of runs) {
    const count = outCount({ ...s, n: run.count });
    const slice = (b: GPUBuffer, bytes: number) => rowRange(b, run, bytes);
    r.dispatch(MAXPOOL3D_BACKWARD, { params: { count }, buffers: { dy: slice(dy, yBytes), argmax: slice(argmax, yBytes), dx: slice(dx, xBytes) }, constants: { WG }, workgroups: grid1d(r.gpu, count, WG) });
  }
}
