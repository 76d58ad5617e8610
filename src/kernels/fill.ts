// y[0..n) = value on the GPU (zeroing alone is Recorder.clear).
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export const FILL: KernelSpec = {
  shader: 'fill',
  params: [
    ['n', 'u32'],
    ['value', 'f32'],
  ],
  inputs: [],
  outputs: ['y'],
};

const WG = 256;

export function fill(r: Recorder, y: GPUBuffer, n: number, value: number): void {
  r.dispatch(FILL, { params: { n, value }, buffers: { y }, constants: { WG }, workgroups: grid1d(r.gpu, n, WG) });
}
