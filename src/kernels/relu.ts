// ReLU forward and backward on the GPU. Reference: src/ref/relu.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export const RELU_FORWARD: KernelSpec = { shader: 'relu_forward', params: [['n', 'u32']], inputs: ['x'], outputs: ['y'] };
export const RELU_BACKWARD: KernelSpec = { shader: 'relu_backward', params: [['n', 'u32']], inputs: ['dy', 'y'], outputs: ['dx'] };

const WG = 256;

/** y = max(x, 0) over n elements. */
export function reluForward(r: Recorder, y: GPUBuffer, x: GPUBuffer, n: number): void {
  r.dispatch(RELU_FORWARD, { params: { n }, buffers: { x, y }, constants: { WG }, workgroups: grid1d(r.gpu, n, WG) });
}

/** dx += dy where the forward output y is positive. */
export function reluBackward(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, y: GPUBuffer, n: number): void {
  r.dispatch(RELU_BACKWARD, { params: { n }, buffers: { dy, y, dx }, constants: { WG }, workgroups: grid1d(r.gpu, n, WG) });
}
