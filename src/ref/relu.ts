/** y = max(x, 0), in float64. */
export function reluForwardRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => Math.max(v, 0));
}

/** dx = dy * (y > 0) (the gradient alone; the GPU kernel adds it into dx). */
export function reluBackwardRef(dy: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  return Float64Array.from(dy, (g, i) => (y[i]! > 0 ? g : 0));
}
