// Bytes of GPU buffers the project holds, and their high-water mark: every buffer
// comes from Gpu.createBuffer (pooled storage, uploads, readback staging, uniform
// arenas, the engine's batch buffers), which counts it here and counts it out again
// when it is destroyed. What is counted is what we asked the driver for — pooled
// buffers at their power-of-two size class — not what the driver reports using.

export class GpuMemory {
  /** Bytes of buffers created and not yet destroyed. */
  live = 0;
  /** Highest `live` since the last resetPeak(). */
  peak = 0;
  /** Buffers created and not yet destroyed. */
  buffers = 0;
  /** Counts up when the device goes: buffers of an earlier device no longer count out. */
  private device = 0;

  /**
   * Counts `buf` in and makes its destroy() count it out, once: callers destroy
   * buffers directly, and a second destroy() is legal WebGPU that must not count twice.
   */
  track(buf: GPUBuffer): GPUBuffer {
    const size = buf.size;
    this.live += size;
    this.buffers++;
    if (this.live > this.peak) this.peak = this.live;
    const destroy = buf.destroy;
    const device = this.device;
    let alive = true;
    buf.destroy = () => {
      if (alive && device === this.device) {
        alive = false;
        this.live -= size;
        this.buffers--;
      }
      destroy.call(buf);
    };
    return buf;
  }

  /** Starts a new high-water mark from what is alive now. */
  resetPeak(): void {
    this.peak = this.live;
  }

  /** Destroying the device frees every buffer at once. */
  deviceDestroyed(): void {
    this.live = 0;
    this.buffers = 0;
    this.device++;
  }
}

/** Bytes as MiB with one decimal, the unit the reports print. */
export function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
