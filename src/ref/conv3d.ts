// Float64 CPU reference of conv3d (stride 1, `same` or `valid` padding), written as
// the plain seven-fold loop so it shares nothing with the GPU's implicit GEMM.
// Layouts as in docs/KERNELS.md: x [N, D, H, W, Cin], w [kd, kh, kw, Cin, Cout],
// b [Cout], y [N, OD, OH, OW, Cout].
import { conv3dOutShape, conv3dPads, type Conv3dShape } from '../kernels/conv3d_shape.js';

type Arr = ArrayLike<number>;

/**
 * Calls `f(xi, wi, yi)` for every (input tap, weight, output) triple that
 * contributes, i.e. every product of the convolution sum.
 */
function forEachTap(s: Conv3dShape, f: (xi: number, wi: number, yi: number) => void): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const [pd, ph, pw] = conv3dPads(s);
  for (let n = 0; n < s.n; n++)
    for (let a = 0; a < od; a++)
      for (let b = 0; b < oh; b++)
        for (let c = 0; c < ow; c++) {
          const yBase = (((n * od + a) * oh + b) * ow + c) * s.cout;
          for (let zd = 0; zd < s.kd; zd++) {
            const id = a + zd - pd;
            if (id < 0 || id >= s.d) continue;
            for (let zh = 0; zh < s.kh; zh++) {
              const ih = b + zh - ph;
              if (ih < 0 || ih >= s.h) continue;
              for (let zw = 0; zw < s.kw; zw++) {
                const iw = c + zw - pw;
                if (iw < 0 || iw >= s.w) continue;
                const xBase = (((n * s.d + id) * s.h + ih) * s.w + iw) * s.cin;
                const wBase = ((zd * s.kh + zh) * s.kw + zw) * s.cin * s.cout;
                for (let ci = 0; ci < s.cin; ci++)
                  for (let co = 0; co < s.cout; co++) f(xBase + ci, wBase + ci * s.cout + co, yBase + co);
              }
            }
          }
        }
}

/** y = conv(x, w) + b. */
export function conv3dForwardRef(x: Arr, w: Arr, b: Arr | null, s: Conv3dShape): Float64Array {
  const [n, od, oh, ow, c] = conv3dOutShape(s);
  const y = new Float64Array(n * od * oh * ow * c);
  if (b) for (let i = 0; i < y.length; i++) y[i] = b[i % c]!;
  forEachTap(s, (xi, wi, yi) => {
    y[yi]! += x[xi]! * w[wi]!;
  });
  return y;
}

/** dL/dx given dL/dy. */
export function conv3dBackwardInputRef(dy: Arr, w: Arr, s: Conv3dShape): Float64Array {
  const dx = new Float64Array(s.n * s.d * s.h * s.w * s.cin);
  forEachTap(s, (xi, wi, yi) => {
    dx[xi]! += dy[yi]! * w[wi]!;
  });
  return dx;
}

/** dL/dw and dL/db given dL/dy. */
export function conv3dBackwardWeightRef(dy: Arr, x: Arr, s: Conv3dShape): { dw: Float64Array; db: Float64Array } {
  const dw = new Float64Array(s.kd * s.kh * s.kw * s.cin * s.cout);
  const db = new Float64Array(s.cout);
  forEachTap(s, (xi, wi, yi) => {
    dw[wi]! += dy[yi]! * x[xi]!;
  });
  for (let i = 0; i < dy.length; i++) db[i % s.cout]! += dy[i]!;
  return { dw, db };
}
