// ReLU forward and backward on the GPU. Reference: src/ref/relu.ts.
import { bindingRuns, grid1d, rowRange, type KernelSpec, type Recorder } from './kernel.js';

export const RELU_FORWARD: KernelSpec = { shader: 'relu_forward', params: [['n', 'u32']], inputs: ['x'], outputs: ['y'] };
export const RELU_BACKWARD: KernelSpec = { shader: 'relu_backward', params: [['n', 'u32']], inputs: ['dy', 'y'], outputs: ['dx'] };

const WG = 256;

/** y = max(x, 0) over n elements (in slices when n floats exceed one storage binding). */
export function reluForward(r: Recorder, y: GPUBuffer, x: GPUBuffer, n: number): void {
  for (const run of bindingRuns(r.gpu, n, [4])) {
    const slice = (b: GPUBuffer) => rowRange(b, run, 4);
    r.dispatch(RELU_FORWARD, { params: { n: run.count }, buffers: { x: slice(x), y: slice(y) }, constants: { WG }, workgroups: grid1d(r.gpu, run.count, WG) });
  }
}

/** dx += dy where the forward output y is positive (dx = … with `accumulate` false, for a gradient's first writer). */
export function reluBackward(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, y: GPUBuffer, n: number, accumulate = true): void {
  for (const run of bindingRuns(r.gpu, n, [4])) {
    const slice = (b: GPUBuffer) => rowRange(b, run, 4);
    r.dispatch(RELU_BACKWARD, { params: { n: run.count }, buffers: { dy: slice(dy), y: slice(y), dx: slice(dx) }, constants: { WG, ACCUMULATE: accumulate ? 1 : 0 }, workgroups: grid1d(r.gpu, run.count, WG) });
  }
}
