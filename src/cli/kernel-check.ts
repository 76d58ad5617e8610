// `ser doctor --kernels`: every GPU op against its float64 reference (src/ref) on
// small random inputs of awkward shapes — batch 1, 1×1 spatial sizes, sizes that do
// not divide the workgroups and tiles — judged by src/util/tolerance.ts with the
// tolerances of the op's test. It needs nothing but the built command and the GPU
// (no test runner), so a machine the project was carried to can check its kernels
// before timing them. The ops and their cases are in kernel-check-ops.ts.
import type { Gpu } from '../kernels/gpu.js';
import { Rng } from '../util/rng.js';
import { closeness, describeCloseness, type Tol } from '../util/tolerance.js';

export interface Comparison {
  label: string;
  maxDiff: number;
  /** Largest |diff| / (atol + rtol·|ref|): at most 1 passes. */
  worstRatio: number;
  ok: boolean;
  /** describeCloseness's line: the largest difference and, where it fails, the worst element. */
  line: string;
}

export interface OpCheckResult {
  op: string;
  ok: boolean;
  /** Outputs compared (each output of each case). */
  comparisons: number;
  maxDiff: number;
  worstRatio: number;
  seconds: number;
  /** The failing comparisons' lines, and the error that stopped the op if one did. */
  failures: string[];
}

export interface KernelCheckReport {
  ok: boolean;
  adapter: string;
  seconds: number;
  ops: OpCheckResult[];
}

/** What an op's check works with: seeded random data, buffers freed after the op, and the comparisons it records. */
export class CheckContext {
  readonly comparisons: Comparison[] = [];
  private owned: GPUBuffer[] = [];

  constructor(
    readonly gpu: Gpu,
    readonly rng: Rng,
  ) {}

  /** A storage buffer holding `data`, destroyed when the op's check ends. */
  upload(data: Float32Array | Uint32Array): GPUBuffer {
    const b = this.gpu.upload(data);
    this.owned.push(b);
    return b;
  }

  /** An output buffer of n floats filled with NaN, so an element the kernel never writes fails. */
  output(n: number): GPUBuffer {
    return this.upload(new Float32Array(n).fill(Number.NaN));
  }

  uniform(n: number, lo = -1, hi = 1): Float32Array {
    return Float32Array.from({ length: n }, () => this.rng.uniform(lo, hi));
  }

  normal(n: number, mean = 0, std = 1): Float32Array {
    return Float32Array.from({ length: n }, () => mean + std * this.rng.normal());
  }

  read(buf: GPUBuffer, n: number): Promise<Float32Array> {
    return this.gpu.readF32(buf, n);
  }

  /** Records |got − want| ≤ atol + rtol·|want| over every element (or those `where` selects, at least one). */
  close(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, where?: (i: number) => boolean): void {
    if (got.length !== want.length) {
      this.comparisons.push({ label, maxDiff: Infinity, worstRatio: Infinity, ok: false, line: `${label}: ${got.length} values, want ${want.length}` });
      return;
    }
    const c = closeness(got, want, tol, where);
    const line = c.compared === 0 ? `${label}: nothing compared` : describeCloseness(label, c, got, want);
    this.comparisons.push({ label, maxDiff: c.maxDiff, worstRatio: c.worstRatio, ok: c.compared > 0 && c.worstRatio <= 1, line });
  }

  /** Records that got equals want element for element (indices, masks). */
  equal(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
    this.close(label, got, want, { atol: 0, rtol: 0 });
  }

  dispose(): void {
    for (const b of this.owned) b.destroy();
    this.owned = [];
  }
}

export interface OpCheck {
  op: string;
  /** Runs the op's cases on the GPU and records each output's comparison with the reference. */
  run: (c: CheckContext) => Promise<void>;
}

/**
 * Runs each check in turn. An op that throws — a GPU validation error, a lost
 * device, a wrong length — fails with the error's message and the others still run.
 */
export async function checkKernels(gpu: Gpu, checks: readonly OpCheck[], onResult?: (r: OpCheckResult) => void): Promise<KernelCheckReport> {
  const t0 = performance.now();
  const ops: OpCheckResult[] = [];
  for (const [i, check] of checks.entries()) {
    const start = performance.now();
    const c = new CheckContext(gpu, new Rng(1000 + i));
    const failures: string[] = [];
    try {
      await check.run(c);
      await gpu.sync();
    } catch (e) {
      failures.push(`error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    } finally {
      c.dispose();
    }
    failures.unshift(...c.comparisons.filter((x) => !x.ok).map((x) => x.line));
    if (c.comparisons.length === 0 && failures.length === 0) failures.push('no output was compared');
    const result: OpCheckResult = {
      op: check.op,
      ok: failures.length === 0,
      comparisons: c.comparisons.length,
      maxDiff: Math.max(0, ...c.comparisons.map((x) => x.maxDiff)),
      worstRatio: Math.max(0, ...c.comparisons.map((x) => x.worstRatio)),
      seconds: (performance.now() - start) / 1000,
      failures,
    };
    ops.push(result);
    onResult?.(result);
  }
  const s = gpu.summary;
  return { ok: ops.every((o) => o.ok), adapter: s.description || s.device || s.vendor, seconds: (performance.now() - t0) / 1000, ops };
}

/** One line per op: compared outputs, largest difference, largest share of the tolerance used, verdict. */
export function formatOpResult(r: OpCheckResult): string {
  const line = `  ${r.op.padEnd(44)} ${String(r.comparisons).padStart(4)}  ${r.maxDiff.toExponential(2).padStart(9)}  ${(Number.isFinite(r.worstRatio) ? `${(r.worstRatio * 100).toFixed(0)}%` : '∞').padStart(6)}  ${r.ok ? 'ok' : 'FAILED'}`;
  return [line, ...r.failures.map((f) => `      ${f}`)].join('\n');
}

export const KERNEL_CHECK_HEADER = `kernels vs float64 references (|diff| ≤ atol + rtol·|ref|):\n  ${'op'.padEnd(44)} ${'outs'.padStart(4)}  ${'max|diff|'.padStart(9)}  ${'of tol'.padStart(6)}`;

export function formatKernelCheck(r: KernelCheckReport): string {
  const failed = r.ops.filter((o) => !o.ok).length;
  return [
    KERNEL_CHECK_HEADER,
    ...r.ops.map(formatOpResult),
    `${r.ok ? 'all' : `${failed} of`} ${r.ops.length} ops ${r.ok ? 'agree with their references' : 'FAILED'} (${r.seconds.toFixed(1)} s)`,
  ].join('\n');
}
