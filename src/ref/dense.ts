import type { DenseShape } from '../kernels/dense.js';

/** y = x · w + b with x [M, K], w [K, N], b [N] (or none), in float64. */
export function denseForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, s: DenseShape): Float64Array {
  const y = new Float64Array(s.m * s.n);
  for (let i = 0; i < s.m; i++)
    for (let j = 0; j < s.n; j++) {
      let acc = b ? b[j]! : 0;
      for (let k = 0; k < s.k; k++) acc += x[i * s.k + k]! * w[k * s.n + j]!;
      y[i * s.n + j] = acc;
    }
  return y;
}

/** dx = dy · wᵀ, dw = xᵀ · dy, db = column sums of dy. */
export function denseBackwardRef(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  s: DenseShape,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(s.m * s.k);
  const dw = new Float64Array(s.k * s.n);
  const db = new Float64Array(s.n);
  for (let i = 0; i < s.m; i++)
    for (let j = 0; j < s.n; j++) {
      const g = dy[i * s.n + j]!;
      db[j]! += g;
      for (let k = 0; k < s.k; k++) {
        dx[i * s.k + k]! += g * w[k * s.n + j]!;
        dw[k * s.n + j]! += g * x[i * s.k + k]!;
      }
    }
  return { dx, dw, db };
}
