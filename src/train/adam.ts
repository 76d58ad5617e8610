// Adam's state: the first and second moments of every parameter, on the GPU, and
// the step counter t of the bias correction. The optimizer owns them, not the
// parameters: the autograd knows tensors and gradients only, and a checkpoint saves
// the moments only when it is asked to (last.safetensors, for --resume).
import type { Gpu } from '../kernels/gpu.js';
import type { Parameter } from '../autograd/tensor.js';
import type { OptimizerState } from '../model/checkpoint.js';

export class AdamState implements OptimizerState {
  /** t of the bias correction: the number of updates made so far. */
  step = 0;
  private moments = new Map<Parameter, { m: GPUBuffer; v: GPUBuffer }>();

  constructor(gpu: Gpu, params: readonly Parameter[]) {
    for (const p of params) {
      const zeros = new Float32Array(p.size);
      this.moments.set(p, { m: gpu.upload(zeros, `${p.name}.adam_m`), v: gpu.upload(zeros, `${p.name}.adam_v`) });
    }
  }

  /** The moment buffers of a parameter. */
  of(p: Parameter): { m: GPUBuffer; v: GPUBuffer } {
    const s = this.moments.get(p);
    if (!s) throw new Error(`Adam has no moments for ${p.name}`);
    return s;
  }

  /** Frees the moment buffers. */
  dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.destroy();
      v.destroy();
    }
    this.moments.clear();
  }
}
