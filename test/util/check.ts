// Shared helpers of the op tests: a seeded RNG, GPU-vs-reference comparison with
// explicit tolerances (atol + rtol·|ref|, src/util/tolerance.ts) that prints the
// largest difference, and central finite differences for checking the float64
// references' gradients.
import { expect } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { closeness, describeCloseness, maxAbs, type Tol } from '../../src/util/tolerance.js';

export { maxAbs, type Tol };

/** A seeded uniform generator in [0, 1): src/util/rng.ts's mulberry32, started from `seed` as is. */
export function makeRng(seed: number): () => number {
  const rng = Rng.fromState(seed);
  return () => rng.next();
}

/** n uniform values in [lo, hi) as float32. */
export function uniform(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

/** n standard normal values as float32 (Box–Muller). */
export function normal(rand: () => number, n: number, mean = 0, std = 1): Float32Array {
  return Float32Array.from({ length: n }, () => mean + std * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
}

export interface CloseOptions {
  /** Compares only the elements it selects (e.g. those above a spectrogram's dB floor); it must select one at least. */
  where?: (i: number) => boolean;
}

/** Asserts |got - want| <= atol + rtol·|want| everywhere (or where opts.where says); prints the largest difference. Returns it. */
export function expectClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol, opts: CloseOptions = {}): number {
  expect(got.length, `${label}: length`).toBe(want.length);
  const c = closeness(got, want, tol, opts.where);
  const line = describeCloseness(label, c, got, want);
  console.log(line);
  if (opts.where) expect(c.compared, `${label}: the mask selects nothing`).toBeGreaterThan(0);
  expect(c.worstRatio <= 1, line).toBe(true);
  return c.maxDiff;
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
