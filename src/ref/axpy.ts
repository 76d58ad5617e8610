/** y += alpha * x, in float64. */
export function axpyRef(alpha: number, x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(y);
  for (let i = 0; i < out.length; i++) out[i]! += alpha * x[i]!;
  return out;
}
