// Small seeded PRNG for everything that must be reproducible: splits, augmentation,
// oversampling, weight init. mulberry32 is 32-bit state and passes the statistical
// tests that matter here; splitmix32 mixes (seed, key…) into independent sub-seeds so
// a result never depends on how work is scheduled (item i gets the same stream in
// any worker, in any order).

/** Finaliser of splitmix32: a bijective avalanche on 32 bits. */
function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seed for sub-stream `keys` of `seed`: deriveSeed(s, epoch, i) differs for every (epoch, i). */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = mix32((seed >>> 0) + 0x9e3779b9);
  for (const k of keys) h = mix32((h ^ (k >>> 0)) + 0x9e3779b9);
  return h;
}

export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    // Mixing first keeps nearby seeds (0, 1, 2…) from starting on correlated streams.
    this.state = mix32(seed >>> 0);
  }

  /**
   * A generator that starts from `state` as given, skipping the constructor's mixing:
   * the fixed streams of the tests' makeRng (test/util/check.ts).
   */
  static fromState(state: number): Rng {
    const rng = new Rng(0);
    rng.state = state >>> 0;
    return rng;
  }

  /** Uniform 32-bit unsigned integer (mulberry32). */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    // 1 - next() is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.next()));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fisher–Yates, in place; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }
}
