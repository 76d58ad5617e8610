// y += alpha * x on the GPU. Reference: axpyRef in src/ref/axpy.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export const AXPY: KernelSpec = {
  shader: 'axpy',
  params: [
    ['n', 'u32'],
    ['alpha', 'f32'],
  ],
  inputs: ['x'],
  outputs: ['y'],
};

const WG = 256;

export function axpy(r: Recorder, n: number, alpha: number, x: GPUBuffer, y: GPUBuffer): void {
  r.dispatch(AXPY, { params: { n, alpha }, buffers: { x, y }, constants: { WG }, workgroups: grid1d(r.gpu, n, WG) });
}
