// Model checkpoints: safetensors with one tensor per parameter and batch-norm
// statistic, named as in Keras (`conv1.kernel`, `bn1.moving_mean`, …; see
// docs/CHECKPOINTS.md), plus the Adam moments (`<name>.adam_m`, `<name>.adam_v`)
// in `last.safetensors` so that --resume continues exactly.
import type { Gpu } from '../kernels/gpu.js';
import type { Ser3dCnn } from './ser3dcnn.js';
import { readSafetensors, writeSafetensors, type TensorEntry, type TensorSpec } from './safetensors.js';

export interface SaveOptions {
  /** Include Adam's moments and step (for resuming). */
  optimizer?: { adamStep: number };
  metadata?: Record<string, string>;
}

/** Copies every persistent tensor of the model to the CPU. */
export async function snapshot(gpu: Gpu, model: Ser3dCnn, withOptimizer: boolean): Promise<Record<string, TensorEntry>> {
  const out: Record<string, TensorEntry> = {};
  for (const t of model.namedTensors()) {
    out[t.name] = { dtype: 'F32', shape: [...t.shape], data: await gpu.readF32(t.buffer, t.size) };
  }
  if (withOptimizer) {
    for (const p of model.params) {
      out[`${p.name}.adam_m`] = { dtype: 'F32', shape: [...p.shape], data: await gpu.readF32(p.m, p.size) };
      out[`${p.name}.adam_v`] = { dtype: 'F32', shape: [...p.shape], data: await gpu.readF32(p.v, p.size) };
    }
  }
  return out;
}

/** Writes a snapshot back into the model's GPU buffers. */
export function restore(gpu: Gpu, model: Ser3dCnn, tensors: Record<string, TensorEntry>, withOptimizer: boolean): void {
  const write = (buf: GPUBuffer, name: string): void => {
    const t = tensors[name];
    if (!t) throw new Error(`checkpoint lacks tensor ${name}`);
    const data = t.data as Float32Array;
    gpu.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  };
  for (const t of model.namedTensors()) write(t.buffer, t.name);
  if (withOptimizer) {
    for (const p of model.params) {
      write(p.m, `${p.name}.adam_m`);
      write(p.v, `${p.name}.adam_v`);
    }
  }
}

export async function saveModel(gpu: Gpu, model: Ser3dCnn, path: string, opts: SaveOptions = {}): Promise<void> {
  const tensors = await snapshot(gpu, model, Boolean(opts.optimizer));
  const metadata: Record<string, string> = { format: 'ser-webgpu', classes: JSON.stringify(model.config.classes), width: String(model.config.width), ...opts.metadata };
  if (opts.optimizer) metadata.adam_step = String(opts.optimizer.adamStep);
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

/** Loads weights (and optionally the optimizer) into `model`; returns the file's metadata. */
export async function loadModel(gpu: Gpu, model: Ser3dCnn, path: string, withOptimizer = false): Promise<Record<string, string>> {
  const { tensors, metadata } = await readSafetensors(path, expectedTensors(model, withOptimizer));
  restore(gpu, model, tensors, withOptimizer);
  return metadata;
}
