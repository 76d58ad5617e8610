// maxpool3d shapes: the shape object of the pooling functions and its output size.
// Plain arithmetic with no GPU imports, so the float64 references (src/ref) can use it.

export interface Maxpool3dShape {
  n: number;
  d: number;
  h: number;
  w: number;
  c: number;
  /** Window and stride along D, H, W. */
  pd: number;
  ph: number;
  pw: number;
}

/** Output spatial sizes: floor(size / window), the remainder dropped. */
export function maxpool3dOutShape(s: Maxpool3dShape): { od: number; oh: number; ow: number } {
  return { od: Math.floor(s.d / s.pd), oh: Math.floor(s.h / s.ph), ow: Math.floor(s.w / s.pw) };
}
