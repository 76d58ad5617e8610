// Model checkpoints: safetensors with one tensor per parameter and batch-norm
// statistic, named as in Keras (`conv1.kernel`, `bn1.moving_mean`, …; see
// docs/CHECKPOINTS.md), plus the optimizer's moments (`<name>.adam_m`, `<name>.adam_v`)
// in `last.safetensors` so that --resume continues exactly.
import type { Gpu } from '../kernels/gpu.js';
import type { Parameter } from '../autograd/tensor.js';
import type { Ser3dCnn } from './ser3dcnn.js';
import { readSafetensors, writeSafetensors, type TensorEntry, type TensorSpec } from './safetensors.js';

/** What a checkpoint needs of an optimizer (src/train/adam.ts's AdamState): its step and each parameter's moments. */
export interface OptimizerState {
  step: number;
  of(p: Parameter): { m: GPUBuffer; v: GPUBuffer };
}

export interface SaveOptions {
  /** Include the optimizer's moments and step (for resuming). */
  optimizer?: OptimizerState;
  metadata?: Record<string, string>;
}

/** Copies every persistent tensor of the model to the CPU. */
export async function snapshot(gpu: Gpu, model: Ser3dCnn, optimizer?: OptimizerState): Promise<Record<string, TensorEntry>> {
  const out: Record<string, TensorEntry> = {};
  for (const t of model.namedTensors()) {
    out[t.name] = { dtype: 'F32', shape: [...t.shape], data: await gpu.readF32(t.buffer, t.size) };
  }
  if (optimizer) {
    for (const p of model.params) {
      const { m, v } = optimizer.of(p);
      out[`${p.name}.adam_m`] = { dtype: 'F32', shape: [...p.shape], data: await gpu.readF32(m, p.size) };
      out[`${p.name}.adam_v`] = { dtype: 'F32', shape: [...p.shape], data: await gpu.readF32(v, p.size) };
    }
  }
  return out;
}

/** Writes a snapshot back into the model's GPU buffers. */
export function restore(gpu: Gpu, model: Ser3dCnn, tensors: Record<string, TensorEntry>, optimizer?: OptimizerState): void {
  const write = (buf: GPUBuffer, name: string): void => {
    const t = tensors[name];
    if (!t) throw new Error(`checkpoint lacks tensor ${name}`);
    const data = t.data as Float32Array;
    gpu.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  };
  for (const t of model.namedTensors()) write(t.buffer, t.name);
  if (optimizer) {
    for (const p of model.params) {
      const { m, v } = optimizer.of(p);
      write(m, `${p.name}.adam_m`);
      write(v, `${p.name}.adam_v`);
    }
  }
}

export async function saveModel(gpu: Gpu, model: Ser3dCnn, path: string, opts: SaveOptions = {}): Promise<void> {
  const tensors = await snapshot(gpu, model, opts.optimizer);
  const metadata: Record<string, string> = { format: 'ser-webgpu', classes: JSON.stringify(model.config.classes), width: String(model.config.width), ...opts.metadata };
  if (opts.optimizer) metadata.adam_step = String(opts.optimizer.step);
  await writeSafetensors(path, tensors, metadata);
}

/** The shapes a checkpoint for `model` must have; the reader checks them before allocating. */
export function expectedTensors(model: Ser3dCnn, withOptimizer: boolean): Record<string, TensorSpec> {
  const exp: Record<string, TensorSpec> = {};
  for (const t of model.namedTensors()) exp[t.name] = { dtype: 'F32', shape: [...t.shape] };
  // Adam moments are required to resume, and allowed (then ignored) when only the weights are loaded.
  for (const p of model.params) {
    exp[`${p.name}.adam_m`] = { dtype: 'F32', shape: [...p.shape], optional: !withOptimizer };
    exp[`${p.name}.adam_v`] = { dtype: 'F32', shape: [...p.shape], optional: !withOptimizer };
  }
  return exp;
}

/** Loads weights (and the optimizer's moments, when given one) into `model`; returns the file's metadata. */
export async function loadModel(gpu: Gpu, model: Ser3dCnn, path: string, optimizer?: OptimizerState): Promise<Record<string, string>> {
  const { tensors, metadata } = await readSafetensors(path, expectedTensors(model, Boolean(optimizer)));
  restore(gpu, model, tensors, optimizer);
  return metadata;
}
