import { maxpool3dOutShape, type Maxpool3dShape } from '../kernels/maxpool3d_shape.js';

/** Window maxima and their flat input indices (first maximum on ties, scanning d, h, w), in float64. */
export function maxpool3dForwardRef(x: ArrayLike<number>, s: Maxpool3dShape): { y: Float64Array; argmax: Uint32Array } {
  const { od, oh, ow } = maxpool3dOutShape(s);
  const count = s.n * od * oh * ow * s.c;
  const y = new Float64Array(count);
  const argmax = new Uint32Array(count);
  let o = 0;
  for (let n = 0; n < s.n; n++)
    for (let a = 0; a < od; a++)
      for (let b = 0; b < oh; b++)
        for (let e = 0; e < ow; e++)
          for (let c = 0; c < s.c; c++, o++) {
            let best = -Infinity;
            let bestIdx = -1;
            for (let i = 0; i < s.pd; i++)
              for (let j = 0; j < s.ph; j++)
                for (let k = 0; k < s.pw; k++) {
                  const idx = (((n * s.d + a * s.pd + i) * s.h + b * s.ph + j) * s.w + e * s.pw + k) * s.c + c;
                  if (bestIdx < 0 || x[idx]! > best) {
                    best = x[idx]!;
                    bestIdx = idx;
                  }
                }
            y[o] = best;
            argmax[o] = bestIdx;
          }
  return { y, argmax };
}

/** dx[argmax[o]] += dy[o] into a fresh zero dx of the input's size. */
export function maxpool3dBackwardRef(dy: ArrayLike<number>, argmax: ArrayLike<number>, s: Maxpool3dShape): Float64Array {
  const dx = new Float64Array(s.n * s.d * s.h * s.w * s.c);
  for (let o = 0; o < dy.length; o++) dx[argmax[o]!]! += dy[o]!;
  return dx;
}
