// The harness of the per-op benchmarks (bench/<op>.bench.ts; bench/ops.bench.ts
// runs them all): each case uploads its inputs, runs once from zeroed outputs,
// checks what it wrote against the float64 reference (bench/validate.ts), and
// only then is timed. tinybench drives warm-up and iterations; each sample is the
// GPU time of one recorded command buffer (timestamp queries where the adapter has
// them, see timeRecorded), and the median is reported with GFLOP/s and GB/s.
import { pathToFileURL } from 'node:url';
import { getGpu, type Gpu } from '../src/kernels/gpu.js';
import { run, type Recorder } from '../src/kernels/kernel.js';
import { medianGpuMs } from './gpu_timing.js';
import { checkClose, randomData, type Tol } from './validate.js';

export interface OpBenchResult {
  name: string;
  shape: string;
  /** Median GPU time of one call, ms. */
  ms: number;
  gflops: number;
  /** Compulsory DRAM traffic (each tensor read or written once per pass) over time. */
  gbps: number;
}

export interface OpsBenchOptions {
  batches?: number[];
  /** Timed iterations per op (tinybench's minimum). */
  iterations?: number;
  /** Time budget per op, ms. */
  time?: number;
  /** Called with each result as it is measured. */
  onResult?: (r: OpBenchResult) => void;
  /** Called with each validation line (largest difference from the reference) before the timing. */
  log?: (line: string) => void;
}

/** One benchmarked call of one op at one shape. */
export interface OpCase {
  name: string;
  shape: string;
  flops: number;
  bytes: number;
  /**
   * Uploads the inputs and zeroed outputs; returns the recording and the check of
   * what one run of it writes (from those zeroed outputs) against the reference.
   */
  setup: (a: OpBuffers) => { record: (r: Recorder) => void; check: () => Promise<string[]> };
}

/**
 * A case whose op maps one random input of inLen values to one output of outLen
 * (relu forward, dropout, global average pooling), checked against ref(input).
 */
export function oneInOneOut(c: {
  name: string;
  shape: string;
  flops: number;
  bytes: number;
  inLen: number;
  outLen: number;
  /** The output's name in the validation line. */
  output: string;
  tol: Tol;
  record: (r: Recorder, out: GPUBuffer, input: GPUBuffer) => void;
  ref: (input: Float32Array) => ArrayLike<number>;
}): OpCase {
  return {
    name: c.name,
    shape: c.shape,
    flops: c.flops,
    bytes: c.bytes,
    setup: (a) => {
      const [input, out] = [a.random(c.inLen), a.zeros(c.outLen)];
      return {
        record: (r) => c.record(r, out, input.buf),
        check: async () => [checkClose(c.output, await a.read(out, c.outLen), c.ref(input.data), c.tol)],
      };
    },
  };
}

/** The GPU buffers of one case, with host copies of the random inputs for the reference. */
export class OpBuffers {
  private owned: GPUBuffer[] = [];
  private seed = 1;

  constructor(
    readonly gpu: Gpu,
    private readonly label: string,
  ) {}

  /** n uniform values in [lo, hi), each call its own seed: the host copy and its GPU buffer. */
  random(n: number, lo = -1, hi = 1): { data: Float32Array; buf: GPUBuffer } {
    const data = randomData(n, this.seed++, lo, hi);
    return { data, buf: this.upload(data) };
  }

  upload(data: Float32Array | Uint32Array): GPUBuffer {
    const b = this.gpu.upload(data, this.label);
    this.owned.push(b);
    return b;
  }

  /** n zeroed 32-bit values (f32 0 and u32 0 share their bits). */
  zeros(n: number): GPUBuffer {
    return this.upload(new Float32Array(n));
  }

  read(buf: GPUBuffer, n: number): Promise<Float32Array> {
    return this.gpu.readF32(buf, n);
  }

  readU32(buf: GPUBuffer, n: number): Promise<Uint32Array> {
    return this.gpu.readU32(buf, n);
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned = [];
  }
}

/** Validates the case, then times it. */
async function measure(gpu: Gpu, c: OpCase, opts: OpsBenchOptions): Promise<OpBenchResult> {
  const a = new OpBuffers(gpu, c.name);
  try {
    const { record, check } = c.setup(a);
    run(gpu, record, `${c.name} (validation)`);
    for (const line of await check()) opts.log?.(`${c.name}: ${line}`);
    const [ms] = await medianGpuMs(gpu, [{ name: c.name, record }], { iterations: opts.iterations ?? 10, time: opts.time ?? 200 });
    return { name: c.name, shape: c.shape, ms: ms!, gflops: c.flops / (ms! * 1e6), gbps: c.bytes / (ms! * 1e6) };
  } finally {
    await gpu.sync();
    a.destroy();
  }
}

/** Validates and times each case in turn. */
export async function runOpCases(gpu: Gpu, cases: OpCase[], opts: OpsBenchOptions = {}): Promise<OpBenchResult[]> {
  const results: OpBenchResult[] = [];
  for (const c of cases) {
    const r = await measure(gpu, c, opts);
    opts.onResult?.(r);
    results.push(r);
  }
  return results;
}

function formatRow(r: OpBenchResult): string {
  return `${r.name.padEnd(38)} ${r.shape.padEnd(30)} ${r.ms.toFixed(3).padStart(9)} ms ${r.gflops.toFixed(2).padStart(8)} GFLOP/s ${r.gbps.toFixed(2).padStart(8)} GB/s`;
}

/** True when `moduleUrl` (import.meta.url) is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return moduleUrl === pathToFileURL(process.argv[1] ?? '').href;
}

/**
 * The command line of every op benchmark:
 *   npx tsx bench/<op>.bench.ts [--json] [--batch 8,32] [--iterations 10]
 * (--batch 1 --iterations 1 for a quick check).
 */
export async function benchMain(cases: (batches: number[]) => OpCase[]): Promise<never> {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const json = args.includes('--json');
  const gpu = await getGpu();
  if (!json) console.log(`adapter: ${gpu.summary.description || gpu.summary.device} (${gpu.summary.backend}), timestamps: ${gpu.features.timestamps}`);
  const batches = value('--batch')?.split(',').map(Number) ?? [8, 32];
  const results = await runOpCases(gpu, cases(batches), {
    iterations: value('--iterations') ? Number(value('--iterations')) : undefined,
    onResult: json ? undefined : (r) => console.log(formatRow(r)),
    log: json ? undefined : (line) => console.log(`  checked ${line}`),
  });
  if (json) console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}
