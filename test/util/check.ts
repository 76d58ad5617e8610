// Shared helpers of the op tests: a seeded RNG, GPU-vs-reference comparison with
// explicit tolerances (atol + rtol·|ref|) that prints the largest difference, and
// central finite differences for checking the float64 references' gradients.
import { expect } from 'vitest';

export interface Tol {
  atol: number;
  rtol: number;
}

/** mulberry32: a small seeded uniform generator in [0, 1). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [lo, hi) as float32. */
export function uniform(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

/** n standard normal values as float32 (Box–Muller). */
export function normal(rand: () => number, n: number, mean = 0, std = 1): Float32Array {
  return Float32Array.from({ length: n }, () => mean + std * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
}

/** Asserts |got - want| <= atol + rtol·|want| everywhere; prints the largest difference. Returns it. */
export function expectClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol): number {
  expect(got.length, `${label}: length`).toBe(want.length);
  let maxDiff = 0;
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    // d === 0 passes even at zero tolerance (0/0); NaN in got never passes.
    const ratio = d === 0 ? 0 : d / (tol.atol + tol.rtol * Math.abs(want[i]!));
    if (!(d <= maxDiff)) maxDiff = d;
    if (!(ratio <= worstRatio)) {
      worstRatio = ratio;
      worst = i;
    }
  }
  console.log(`${label}: max |diff| ${maxDiff.toExponential(2)} over ${want.length} values`);
  const at = worst >= 0 ? ` at ${worst}: got ${got[worst]}, want ${want[worst]}` : '';
  expect(worstRatio <= 1, `${label}: ${(worstRatio * 100).toFixed(0)}% of tolerance${at}`).toBe(true);
  return maxDiff;
}

/**
 * Checks an analytic gradient of the scalar f at x against central differences
 * (f(x + h) - f(x - h)) / 2h, at every index or the given ones.
 */
export function expectGradient(
  label: string,
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  analytic: ArrayLike<number>,
  tol: Tol,
  opts: { h?: number; indices?: number[] } = {},
): void {
  const h = opts.h ?? 1e-6;
  const xs = Float64Array.from(x);
  const idx = opts.indices ?? Array.from({ length: xs.length }, (_, i) => i);
  const numeric: number[] = [];
  const picked: number[] = [];
  for (const i of idx) {
    const v = xs[i]!;
    xs[i] = v + h;
    const up = f(xs);
    xs[i] = v - h;
    const down = f(xs);
    xs[i] = v;
    numeric.push((up - down) / (2 * h));
    picked.push(analytic[i]!);
  }
  expectClose(`${label} vs finite differences`, picked, numeric, tol);
}

/** Sum of a[i]·b[i] in float64: the scalar that turns an op's output into a gradient check. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
