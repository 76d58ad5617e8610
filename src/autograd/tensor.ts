// A minimal autograd on GPU buffers, in the spirit of micrograd.
//
// A `Graph` lives for one step. Every op allocates its output from the buffer
// pool, records its kernels on the step's Recorder, and pushes a backward
// closure onto the tape. `backward()` walks the tape in reverse (insertion
// order is already a topological order) and each closure adds its gradient
// contributions into its inputs' gradient buffers (the first to write a gradient
// that its kernel fills whole overwrites a fresh buffer instead: Graph.gradToWrite).
// `finish()` submits the whole step as one command buffer and returns every
// activation and gradient buffer to the pool, so the next step gets the very same
// buffers back: after the first step no buffers, pipelines or bind groups are created.
import type { Gpu } from '../kernels/gpu.js';
import { Recorder } from '../kernels/kernel.js';

export class Tensor {
  /** Gradient buffer, allocated on first use: zeroed (Graph.gradOf), or left for its first writer to fill (Graph.gradToWrite). */
  grad: GPUBuffer | null = null;

  constructor(
    readonly shape: readonly number[],
    readonly buffer: GPUBuffer,
    readonly requiresGrad: boolean,
    readonly name = '',
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** A trainable tensor that outlives steps, with its gradient (the optimizer keeps its own state). */
export class Parameter extends Tensor {
  override grad: GPUBuffer;

  constructor(gpu: Gpu, shape: readonly number[], name: string, init: Float32Array) {
    if (init.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`${name}: init has ${init.length} values for shape [${shape}]`);
    super(shape, gpu.upload(init, name), true, name);
    const zeros = new Float32Array(init.length);
    this.grad = gpu.upload(zeros, `${name}.grad`);
  }
}

/** A non-trainable persistent tensor (batch-norm running statistics). */
export class State extends Tensor {
  constructor(gpu: Gpu, shape: readonly number[], name: string, init: Float32Array) {
    super(shape, gpu.upload(init, name), false, name);
  }
}

type Backward = () => void;

export class Graph {
  readonly r: Recorder;
  private tape: Backward[] = [];
  private owned: GPUBuffer[] = [];
  /** Counts the step's dropout layers in forward order, so that each draws its own mask. */
  dropoutIndex = 0;
  /** Batch statistics without dropout masks (recalibrating batch norm's running statistics). */
  noDropout = false;
  /** Overrides every batch-norm layer's running-statistics momentum for this step. */
  bnMomentum: number | null = null;
  /**
   * A training-mode forward whose backward never runs (re-estimating batch norm's
   * statistics): ops record no backward closure and keep nothing for one.
   */
  forwardOnly = false;

  constructor(
    readonly gpu: Gpu,
    /** Training mode: batch statistics in batch norm, active dropout, a tape for backward. */
    readonly training: boolean,
    /** Step number (seeds dropout masks so that a resumed run repeats them). */
    readonly step = 0,
    readonly seed = 0,
  ) {
    this.r = new Recorder(gpu, training ? 'train step' : 'inference');
  }

  /** A step-lifetime buffer of `elems` 32-bit values from the pool. */
  scratch(elems: number): GPUBuffer {
    const b = this.gpu.pool.acquire(Math.max(4, elems * 4));
    this.owned.push(b);
    return b;
  }

  tensor(shape: readonly number[], requiresGrad: boolean, name = ''): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return new Tensor(shape, this.scratch(n), requiresGrad && this.training, name);
  }

  /** Wraps data already on the GPU (a batch of inputs) as a leaf without gradient. */
  input(buffer: GPUBuffer, shape: readonly number[]): Tensor {
    return new Tensor(shape, buffer, false, 'input');
  }

  /** The gradient buffer of `t`, allocated and zeroed on first use. Parameters own theirs. */
  gradOf(t: Tensor): GPUBuffer {
    if (!t.grad) {
      t.grad = this.scratch(t.size);
      this.r.clear(t.grad, 0, t.size * 4);
    }
    return t.grad;
  }

  /**
   * The gradient buffer of `t` for a backward kernel that writes every element of it:
   * the first such writer of the step gets a fresh buffer, not zeroed, and overwrites it
   * (`accumulate` false), which saves the clearing and a read of every element; a later
   * writer (a tensor read by several ops) adds to it.
   */
  gradToWrite(t: Tensor): { buffer: GPUBuffer; accumulate: boolean } {
    if (t.grad) return { buffer: t.grad, accumulate: true };
    t.grad = this.scratch(t.size);
    return { buffer: t.grad, accumulate: false };
  }

  /** Records the backward closure of an op whose output is `out`; skipped when nothing needs it. */
  record(out: Tensor, backward: Backward): void {
    if (this.training && !this.forwardOnly && out.requiresGrad) this.tape.push(backward);
  }

  /** Runs every backward closure in reverse order of recording. */
  backward(): void {
    for (let i = this.tape.length - 1; i >= 0; i--) this.tape[i]!();
    this.tape = [];
  }

  /** Submits the step and returns its buffers to the pool. */
  finish(): void {
    this.r.submit();
    for (const b of this.owned) this.gpu.pool.release(b);
    this.owned = [];
  }
}
