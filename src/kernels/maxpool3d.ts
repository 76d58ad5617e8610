// 3-D max pooling (window = stride, no padding, floor) on the GPU, channels-last.
// Forward saves the argmax (flat u32 index into x) that backward routes dy to.
// Reference: src/ref/maxpool3d.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export interface Maxpool3dShape {
  n: number;
  d: number;
  h: number;
  w: number;
  c: number;
  /** Window and stride along D, H, W. */
  pd: number;
  ph: number;
  pw: number;
}

/** Output spatial sizes: floor(size / window), the remainder dropped. */
export function maxpool3dOutShape(s: Maxpool3dShape): { od: number; oh: number; ow: number } {
  return { od: Math.floor(s.d / s.pd), oh: Math.floor(s.h / s.ph), ow: Math.floor(s.w / s.pw) };
}

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

/** y = window maxima [N, OD, OH, OW, C]; argmax = their flat indices into x. */
export function maxpool3dForward(r: Recorder, y: GPUBuffer, argmax: GPUBuffer, x: GPUBuffer, s: Maxpool3dShape): void {
  if (s.pd < 1 || s.ph < 1 || s.pw < 1) throw new Error('maxpool3d: window sizes must be positive');
  r.dispatch(MAXPOOL3D_FORWARD, {
    params: { ...s, ...maxpool3dOutShape(s) },
    buffers: { x, y, argmax },
    constants: { WG },
    workgroups: grid1d(r.gpu, outCount(s), WG),
  });
}

/** dx[argmax[o]] += dy[o]. */
export function maxpool3dBackward(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, argmax: GPUBuffer, s: Maxpool3dShape): void {
  const count = outCount(s);
  r.dispatch(MAXPOOL3D_BACKWARD, { params: { count }, buffers: { dy, argmax, dx }, constants: { WG }, workgroups: grid1d(r.gpu, count, WG) });
}
