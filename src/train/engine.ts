// One training step and batched inference for a model on the GPU.
//
// A step is one Graph: upload the batch, forward, fused softmax+focal loss,
// backward, Adam on every parameter, copy the per-sample loss and probabilities
// into one metrics buffer — all in one command buffer. The only readback is that
// small metrics buffer, which the progress bar and the epoch metrics need.
import type { Gpu } from '../kernels/gpu.js';
import { Graph } from '../autograd/tensor.js';
import { softmaxFocal } from '../autograd/ops.js';
import { adamUpdate } from '../kernels/adam.js';
import { AdamState } from './adam.js';
import type { Ser3dCnn } from '../model/ser3dcnn.js';

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const KERAS_ADAM: AdamConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7 };

export interface StepResult {
  /** Mean loss over the batch. */
  loss: number;
  /** Per-sample loss. */
  losses: Float32Array;
  /** Softmax probabilities [n, classes]. */
  probs: Float32Array;
}

export class Engine {
  readonly classes: number;
  readonly sampleSize: number;
  /** Adam's moments and step counter, persisted in last.safetensors. */
  readonly optimizer: AdamState;
  /** Dropout in training steps (off only to compare steps with a peer that has no masks of ours). */
  dropout = true;
  private input: GPUBuffer;
  private labels: GPUBuffer;
  private alpha: GPUBuffer;
  private metrics: GPUBuffer;

  constructor(
    readonly gpu: Gpu,
    readonly model: Ser3dCnn,
    readonly maxBatch: number,
    alpha: Float32Array,
    readonly gamma: number,
    readonly adam: AdamConfig = { ...KERAS_ADAM },
    readonly seed = 0,
  ) {
    this.classes = model.config.classes.length;
    this.sampleSize = model.config.input.reduce((a, b) => a * b, 1);
    if (alpha.length !== this.classes) throw new Error(`alpha has ${alpha.length} entries for ${this.classes} classes`);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    this.input = gpu.createBuffer({ label: 'batch input', size: maxBatch * this.sampleSize * 4, usage });
    this.labels = gpu.createBuffer({ label: 'batch labels', size: Math.max(16, maxBatch * 4), usage });
    this.alpha = gpu.upload(alpha, 'focal alpha');
    this.metrics = gpu.createBuffer({ label: 'step metrics', size: maxBatch * (1 + this.classes) * 4, usage });
    this.optimizer = new AdamState(gpu, model.params);
  }

  /** Adam's step counter t (bias correction): the number of training steps taken. */
  get adamStep(): number {
    return this.optimizer.step;
  }

  set adamStep(t: number) {
    this.optimizer.step = t;
  }

  private upload(x: Float32Array, y: Uint32Array | null, n: number): void {
    if (n > this.maxBatch) throw new Error(`batch of ${n} exceeds the engine's ${this.maxBatch}`);
    if (x.length !== n * this.sampleSize) throw new Error(`batch input has ${x.length} values, expected ${n}×${this.sampleSize}`);
    this.gpu.device.queue.writeBuffer(this.input, 0, x.buffer, x.byteOffset, x.byteLength);
    if (y) this.gpu.device.queue.writeBuffer(this.labels, 0, y.buffer, y.byteOffset, y.byteLength);
  }

  private async readMetrics(n: number): Promise<StepResult> {
    const all = await this.gpu.readF32(this.metrics, n * (1 + this.classes));
    const losses = all.slice(0, n);
    const probs = all.slice(n);
    let sum = 0;
    for (const l of losses) sum += l;
    return { loss: sum / n, losses, probs };
  }

  /** Forward, backward and an Adam update on one batch; x is [n, ...input], y the labels. */
  async trainStep(x: Float32Array, y: Uint32Array, lr = this.adam.lr): Promise<StepResult> {
    const n = y.length;
    this.upload(x, y, n);
    this.adamStep++;
    const g = new Graph(this.gpu, true, this.adamStep, this.seed);
    g.noDropout = !this.dropout;
    for (const p of this.model.params) g.r.clear(p.grad);
    const logits = this.model.forward(g, g.input(this.input, [n, ...this.model.config.input]));
    const { loss, probs } = softmaxFocal(g, logits, this.labels, this.alpha, this.gamma);
    g.backward();
    const { beta1, beta2, eps } = this.adam;
    for (const p of this.model.params) {
      const { m, v } = this.optimizer.of(p);
      adamUpdate(g.r, p.buffer, p.grad, m, v, { n: p.size, lr, beta1, beta2, eps, step: this.adamStep });
    }
    g.r.copy(loss, 0, this.metrics, 0, n * 4);
    g.r.copy(probs, 0, this.metrics, n * 4, n * this.classes * 4);
    g.finish();
    const result = await this.readMetrics(n);
    if (!Number.isFinite(result.loss)) {
      throw new NonFiniteLossError(this.adamStep, await this.firstNonFinite());
    }
    return result;
  }

  /** Inference (running BN statistics, no dropout) on one batch; labels give the loss when present. */
  async predictBatch(x: Float32Array, y: Uint32Array | null, n: number): Promise<StepResult> {
    // Without labels the loss is meaningless but the kernel still needs in-range ones.
    this.upload(x, y ?? new Uint32Array(n), n);
    const g = new Graph(this.gpu, false);
    const logits = this.model.forward(g, g.input(this.input, [n, ...this.model.config.input]));
    const { loss, probs } = softmaxFocal(g, logits, this.labels, this.alpha, this.gamma);
    g.r.copy(loss, 0, this.metrics, 0, n * 4);
    g.r.copy(probs, 0, this.metrics, n * 4, n * this.classes * 4);
    g.finish();
    return this.readMetrics(n);
  }

  /**
   * Re-estimates every batch-norm layer's running statistics as the plain average
   * of batch statistics over `batches` (forward passes in training mode, without
   * dropout, no weight update). The moving averages of training are taken with
   * dropout active, which inflates the variances that inference then divides by
   * (the "variance shift" of dropout before batch norm); in short runs they also
   * trail the weights. Averaging batch i with momentum i/(i+1) gives the mean of
   * all batch statistics ("precise BN").
   */
  async recalibrateBatchNorm(batches: { x: Float32Array; n: number }[]): Promise<void> {
    for (let i = 0; i < batches.length; i++) {
      const { x, n } = batches[i]!;
      this.upload(x, null, n);
      const g = new Graph(this.gpu, true, 0, this.seed);
      g.noDropout = true;
      g.forwardOnly = true;
      g.bnMomentum = i / (i + 1);
      this.model.forward(g, g.input(this.input, [n, ...this.model.config.input]));
      g.finish();
    }
    await this.gpu.sync();
  }

  /** Frees the engine's buffers and Adam's moments; the model stays (Ser3dCnn.dispose frees it). */
  dispose(): void {
    for (const b of [this.input, this.labels, this.alpha, this.metrics]) b.destroy();
    this.optimizer.dispose();
  }

  /** Names the first parameter holding NaN or Inf (a diagnostic after a non-finite loss). */
  async firstNonFinite(): Promise<string> {
    for (const t of [...this.model.params, ...this.model.states]) {
      const v = await this.gpu.readF32(t.buffer, t.size);
      const bad = v.findIndex((e) => !Number.isFinite(e));
      if (bad >= 0) return `${t.name}[${bad}] = ${v[bad]}`;
    }
    return 'no parameter is non-finite (the batch input or the loss itself overflowed)';
  }
}

export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly detail: string,
  ) {
    super(`loss became NaN/Inf at step ${step}; first offending tensor: ${detail}`);
    this.name = 'NonFiniteLossError';
  }
}
