// The counter-based dropout mask in plain TypeScript: the reference that
// shaders/dropout.wgsl (which derives the same key and mask on the GPU) must match bit
// for bit. Also the masks the PyTorch peer applies in the parity test.

/** Wellons' "lowbias32" xorshift-multiply hash; identical to hash32 in shaders/dropout.wgsl. */
export function hash32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** One 32-bit key per (seed, step). */
export function dropoutKey(seed: number, step: number): number {
  return hash32((seed ^ hash32((step + 0x9e3779b9) >>> 0)) >>> 0);
}

/** An element is kept when the top 24 bits of its hash are >= this: P(keep) = 1 - threshold / 2^24. */
export function dropoutThreshold(rate: number): number {
  return Math.min(1 << 24, Math.round(rate * (1 << 24)));
}

/** The keep mask of n elements for (rate, seed, step). */
export function dropoutMaskRef(n: number, rate: number, seed: number, step: number): Uint8Array {
  const key = dropoutKey(seed, step);
  const thr = dropoutThreshold(rate);
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const u = hash32((hash32((i ^ key) >>> 0) + key) >>> 0);
    mask[i] = u >>> 8 >= thr ? 1 : 0;
  }
  return mask;
}

/** y = x * mask / (1 - rate), in float64. */
export function dropoutForwardRef(x: ArrayLike<number>, rate: number, seed: number, step: number): Float64Array {
  const mask = dropoutMaskRef(x.length, rate, seed, step);
  const scale = 1 / (1 - rate);
  return Float64Array.from(x, (v, i) => (mask[i] ? v * scale : 0));
}

/** dx = dy * mask / (1 - rate): dropout is linear, so its backward is the same map. */
export function dropoutBackwardRef(dy: ArrayLike<number>, rate: number, seed: number, step: number): Float64Array {
  return dropoutForwardRef(dy, rate, seed, step);
}
