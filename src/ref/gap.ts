import type { GapShape } from '../kernels/gap.js';

/** y[n, c] = mean over s of x[n, s, c], in float64. */
export function gapForwardRef(x: ArrayLike<number>, shape: GapShape): Float64Array {
  const s = { n: shape.n, s: shape.spatial, c: shape.c };
  const y = new Float64Array(s.n * s.c);
  for (let n = 0; n < s.n; n++)
    for (let p = 0; p < s.s; p++) for (let c = 0; c < s.c; c++) y[n * s.c + c]! += x[(n * s.s + p) * s.c + c]! / s.s;
  return y;
}

/** dx[n, s, c] = dy[n, c] / S. */
export function gapBackwardRef(dy: ArrayLike<number>, shape: GapShape): Float64Array {
  const s = { n: shape.n, s: shape.spatial, c: shape.c };
  const dx = new Float64Array(s.n * s.s * s.c);
  for (let n = 0; n < s.n; n++)
    for (let p = 0; p < s.s; p++) for (let c = 0; c < s.c; c++) dx[(n * s.s + p) * s.c + c] = dy[n * s.c + c]! / s.s;
  return dx;
}
