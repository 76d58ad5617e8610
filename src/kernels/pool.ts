// Storage buffers by size class, so that a training step in steady state creates no
// buffers: the activations and gradients of one step are the next step's.
import { GpuError } from './gpu-error.js';
import type { GpuMemory } from './memory.js';

/**
 * Storage buffers recycled by size class (powers of two above 256 B), so that a
 * training step in steady state creates no buffers. `release` returns a buffer
 * for reuse by later work; WebGPU orders queue operations, so a buffer released
 * while earlier commands still read it is safe to overwrite in later commands.
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  /** Bytes requested at each buffer's latest acquire (its size class may be larger). */
  private requested = new WeakMap<GPUBuffer, number>();
  created = 0;
  constructor(
    private device: GPUDevice,
    private memory: GpuMemory,
  ) {}

  static sizeClass(bytes: number): number {
    let s = 256;
    while (s < bytes) s *= 2;
    return s;
  }

  acquire(bytes: number, label = 'pooled'): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    checkBufferSize(this.device, size, label);
    const list = this.free.get(size);
    let buf = list?.pop();
    if (!buf) {
      this.created++;
      buf = this.memory.track(
        this.device.createBuffer({
          label,
          size,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        }),
      );
    }
    this.requested.set(buf, bytes);
    return buf;
  }

  /** Records `bytes` as acquired in `buf`, a buffer of this pool handed on without passing through it (Recorder.acquire). */
  noteAcquired(buf: GPUBuffer, bytes: number): void {
    this.requested.set(buf, bytes);
  }

  /** The bytes last acquired in `buf`, if it came from this pool. */
  bytesOf(buf: GPUBuffer): number | undefined {
    return this.requested.get(buf);
  }

  release(buf: GPUBuffer): void {
    const list = this.free.get(buf.size);
    if (list) list.push(buf);
    else this.free.set(buf.size, [buf]);
  }

  clear(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}

/**
 * Refuses a buffer the device cannot hold, before WebGPU turns it into a deferred
 * validation error. Buffers may exceed the storage-binding limit: ops bind such
 * tensors in slices (kernel.ts, bindingRuns).
 */
export function checkBufferSize(device: GPUDevice, bytes: number, label: string): void {
  const max = device.limits.maxBufferSize;
  if (bytes > max) {
    throw new GpuError(`${label}: a ${(bytes / 2 ** 20).toFixed(0)} MiB buffer exceeds the device's limit of ${(max / 2 ** 20).toFixed(0)} MiB — try a smaller --batch`, 'out-of-memory');
  }
}
