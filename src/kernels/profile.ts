// SER_PROFILE=1: GPU time per shader, from timestamps around every dispatch, summed
// per shader and printed at exit.
import type { Gpu } from './gpu-core.js';
import { gpuWait } from './gpu-wait.js';

/**
 * Per-kernel GPU time, enabled by `SER_PROFILE=1`: timestamps around every
 * dispatch, summed per shader and printed at exit. Only for finding hot spots —
 * one pass per dispatch changes the scheduling it measures.
 */
export class Profiler {
  private querySet: GPUQuerySet;
  private resolveBuf: GPUBuffer;
  private labels: string[] = [];
  readonly totals = new Map<string, { ms: number; count: number }>();
  private busy: Promise<void> = Promise.resolve();
  static readonly CAPACITY = 2048;
  /**
   * While paused, dispatches get no timestamps and count toward nothing: `ser bench`
   * pauses outside its timed iterations, so tuning, first compiles and warm-ups stay
   * out of the table.
   */
  paused = false;
  /** What the totals cover, printed with them. */
  scope = 'every dispatch of the run';

  constructor(private gpu: Gpu) {
    this.querySet = gpu.device.createQuerySet({ type: 'timestamp', count: Profiler.CAPACITY * 2 });
    this.resolveBuf = gpu.createBuffer({ size: Profiler.CAPACITY * 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    process.on('exit', () => this.print());
  }

  slot(shader: string): GPUComputePassTimestampWrites | undefined {
    if (this.paused || this.labels.length >= Profiler.CAPACITY) return undefined;
    const i = this.labels.length;
    this.labels.push(shader);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  private pending: { labels: string[]; buf: GPUBuffer } | null = null;

  resolve(encoder: GPUCommandEncoder): void {
    const n = this.labels.length;
    if (n === 0) return;
    const buf = this.gpu.createBuffer({ size: n * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    encoder.copyBufferToBuffer(this.resolveBuf, 0, buf, 0, n * 16);
    this.pending = { labels: this.labels, buf };
    this.labels = [];
  }

  collect(): Promise<void> {
    const p = this.pending;
    this.pending = null;
    if (!p) return this.busy;
    this.busy = this.busy.then(async () => {
      await gpuWait(() => p.buf.mapAsync(GPUMapMode.READ));
      const t = new BigUint64Array(p.buf.getMappedRange());
      p.labels.forEach((label, i) => {
        const ms = Number(t[2 * i + 1]! - t[2 * i]!) / 1e6;
        const e = this.totals.get(label) ?? { ms: 0, count: 0 };
        e.ms += ms;
        e.count++;
        this.totals.set(label, e);
      });
      p.buf.unmap();
      p.buf.destroy();
    });
    return this.busy;
  }

  print(): void {
    const rows = [...this.totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((s, [, e]) => s + e.ms, 0);
    process.stderr.write(`\nGPU time per shader (SER_PROFILE, ${this.scope}), total ${total.toFixed(0)} ms\n`);
    for (const [label, e] of rows) process.stderr.write(`  ${label.padEnd(48)} ${e.ms.toFixed(1).padStart(10)} ms  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ×${e.count}\n`);
  }
}

const profilers = new WeakMap<Gpu, Profiler | null>();
export function profilerOf(gpu: Gpu): Profiler | null {
  if (!profilers.has(gpu)) profilers.set(gpu, gpu.profile && gpu.features.timestamps ? new Profiler(gpu) : null);
  return profilers.get(gpu)!;
}
