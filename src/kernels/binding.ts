// Bindings of a dispatch: a whole buffer or a byte range of one, and how a tensor
// larger than one storage binding may hold (lavapipe: 128 MiB) is cut into runs of
// rows that each fit, at offsets the device can bind. docs/KERNELS.md, "Tensors
// larger than one binding".
import { Gpu, GpuError, align } from './gpu-core.js';

export interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export type Binding = GPUBuffer | BufferRange;

/**
 * The range a binding covers: a whole buffer is bound up to the bytes last
 * acquired for it (pool size classes round up, past the binding limit for the
 * largest tensors). A tensor larger than one binding may hold must be processed
 * in slices by its op (`bindingRuns`); WebGPU would reject binding it whole, at
 * a later sync and without naming the tensor, so it is refused here.
 */
export function bindingRange(gpu: Gpu, shader: string, name: string, b: Binding): BufferRange {
  const limit = gpu.maxBindingBytes;
  if (!(b instanceof GPUBuffer)) {
    if (b.size > limit || b.offset % gpu.limits.minStorageBufferOffsetAlignment !== 0 || b.offset + b.size > b.buffer.size) {
      throw new Error(`${shader}: invalid slice of ${name} (offset ${b.offset}, ${b.size} bytes, buffer ${b.buffer.size} bytes, binding limit ${limit})`);
    }
    // Shaders that view a binding as vec4s see floor(size / 16) of them, so a slice
    // ends on a 16-byte boundary (inside the buffer) lest its last floats fall off;
    // an empty slice (nothing to compute) still needs a non-empty binding.
    const room = b.buffer.size - b.offset;
    const size = Math.min(room, Math.max(16, align(b.size, 16)), Math.floor(limit / 16) * 16);
    return size === b.size ? b : { buffer: b.buffer, offset: b.offset, size };
  }
  if (b.size <= limit) return { buffer: b, offset: 0, size: b.size };
  const used = Math.min(b.size, align(gpu.pool.bytesOf(b) ?? b.size, 16));
  if (used > limit) {
    throw new GpuError(
      `${shader}: ${name} holds ${(used / 2 ** 20).toFixed(0)} MiB, more than the device's ${(limit / 2 ** 20).toFixed(0)} MiB storage-binding limit — try a smaller --batch`,
      'out-of-memory',
    );
  }
  return { buffer: b, offset: 0, size: used };
}

/** One slice of rows [start, start + count). */
export interface RowRun {
  start: number;
  count: number;
}

/**
 * Splits `rows` rows (samples of a batch, or rows of an [M, C] matrix) into runs
 * small enough that each sliced binding — `rowBytes[i]` bytes per row — fits one
 * storage binding, with every run starting at an offset the device can bind.
 * A single run whenever the whole tensor fits, which on a GPU with large
 * bindings is every shape; lavapipe's 128 MiB limit splits the report's first
 * block at batch 32.
 */
export function bindingRuns(gpu: Gpu, rows: number, rowBytes: readonly number[]): RowRun[] {
  const widest = Math.max(...rowBytes);
  const limit = gpu.maxBindingBytes;
  if (rows * widest <= limit) return [{ start: 0, count: rows }];
  // Rows per run must keep every run's byte offset aligned in every binding.
  const alignment = gpu.limits.minStorageBufferOffsetAlignment;
  let step = 1;
  for (const rb of rowBytes) step = lcm(step, alignment / gcd(rb, alignment));
  const perRun = Math.floor(limit / widest / step) * step;
  if (perRun < 1) throw new GpuError(`a single row of ${widest} bytes (×${step} for alignment) exceeds the device's ${limit}-byte storage-binding limit`, 'out-of-memory');
  const runs: RowRun[] = [];
  for (let start = 0; start < rows; start += perRun) runs.push({ start, count: Math.min(perRun, rows - start) });
  return runs;
}

/** The bytes of rows `run` in a buffer of `rowBytes`-byte rows. */
export function rowRange(buffer: GPUBuffer, run: RowRun, rowBytes: number): BufferRange {
  return { buffer, offset: run.start * rowBytes, size: run.count * rowBytes };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
