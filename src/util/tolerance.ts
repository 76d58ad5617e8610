// How close a result is to its reference, with an explicit tolerance
// |got − want| ≤ atol + rtol·|want| per element. The tests (test/util/check.ts) and
// the benchmarks' validation (bench/validate.ts) both judge by this one function.

export interface Tol {
  atol: number;
  rtol: number;
}

export interface Closeness {
  /** Largest |got − want| over the compared elements (Infinity where got is NaN). */
  maxDiff: number;
  /** Largest |got − want| / (atol + rtol·|want|): at most 1 passes. */
  worstRatio: number;
  /** Index of that element, −1 when every element matches exactly. */
  worst: number;
  /** Elements compared (all, or those `where` selects). */
  compared: number;
}

/** Compares got with want elementwise, over every index or those `where` selects. */
export function closeness(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, where?: (i: number) => boolean): Closeness {
  let maxDiff = 0;
  let worstRatio = 0;
  let worst = -1;
  let compared = 0;
  for (let i = 0; i < want.length; i++) {
    if (where && !where(i)) continue;
    compared++;
    // A NaN difference counts as infinite, so no later element can hide it.
    const raw = Math.abs(got[i]! - want[i]!);
    const d = Number.isNaN(raw) ? Infinity : raw;
    // d === 0 passes even at zero tolerance (0/0).
    const ratio = d === 0 ? 0 : d / (tol.atol + tol.rtol * Math.abs(want[i]!));
    if (d > maxDiff) maxDiff = d;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = i;
    }
  }
  return { maxDiff, worstRatio, worst, compared };
}

/** The one-line verdict both checkers print: the largest difference and, where it fails, the worst element. */
export function describeCloseness(label: string, c: Closeness, got: ArrayLike<number>, want: ArrayLike<number>): string {
  const line = `${label}: max |diff| ${c.maxDiff.toExponential(2)} over ${c.compared} values`;
  if (c.worstRatio <= 1) return line;
  return `${line}; ${(c.worstRatio * 100).toFixed(0)}% of tolerance at ${c.worst}: got ${got[c.worst]}, want ${want[c.worst]}`;
}

/** Largest |a[i]|, for tolerances stated relative to a result's scale. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
