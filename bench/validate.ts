// What every benchmark does before it times: inputs from the project's seeded
// PRNG, and the kernel's outputs checked against the float64 CPU reference
// (src/ref/*) with an explicit tolerance. A failed check throws, so nothing
// wrong is ever timed. Where a reference is too slow at the benchmarked shape,
// a benchmark checks a subset of the outputs, computed by the same reference
// on the corresponding slice of the inputs (pickAxis).
import { Rng } from '../src/util/rng.js';
import { closeness, describeCloseness, type Tol } from '../src/util/tolerance.js';

export type { Tol };

/** n values uniform in [lo, hi) from the seeded PRNG (src/util/rng.ts). */
export function randomData(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi);
  return out;
}

/**
 * Throws unless |got − want| ≤ atol + rtol·|want| everywhere; returns the line that
 * states the largest difference (the benchmarks print it before their timings).
 */
export function checkClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol): string {
  if (got.length !== want.length) throw new Error(`${label}: ${got.length} values, the reference has ${want.length}`);
  const c = closeness(got, want, tol);
  const line = describeCloseness(label, c, got, want);
  if (!(c.worstRatio <= 1)) throw new Error(`validation failed, not timed: ${line}`);
  return line;
}

/**
 * Entries `pick` of the middle axis of t viewed as [outer, size, inner]:
 * out[o][j][i] = t[o][pick[j]][i]. Channels of a channels-last tensor are
 * pickAxis(t, positions, C, 1, pick); input channels of a conv3d weight
 * [taps, Cin, Cout] are pickAxis(w, taps, Cin, Cout, pick).
 */
export function pickAxis(t: ArrayLike<number>, outer: number, size: number, inner: number, pick: readonly number[]): Float32Array {
  const out = new Float32Array(outer * pick.length * inner);
  let k = 0;
  for (let o = 0; o < outer; o++)
    for (const j of pick) {
      const base = (o * size + j) * inner;
      for (let i = 0; i < inner; i++) out[k++] = t[base + i]!;
    }
  return out;
}
