// conv3d shapes: the shape object every conv3d function takes, its padding, output
// shape and FLOP count (stride 1, `same` or `valid` padding, channels last).

export interface Conv3dShape {
  n: number;
  d: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kd: number;
  kh: number;
  kw: number;
  padding: 'same' | 'valid';
}

/** Padding before each spatial axis (depth, height, width): floor((k-1)/2) for `same`, as TensorFlow does. */
export function conv3dPads(s: Conv3dShape): [number, number, number] {
  if (s.padding === 'valid') return [0, 0, 0];
  return [Math.floor((s.kd - 1) / 2), Math.floor((s.kh - 1) / 2), Math.floor((s.kw - 1) / 2)];
}

/** Output shape [N, OD, OH, OW, Cout]. */
export function conv3dOutShape(s: Conv3dShape): [number, number, number, number, number] {
  if (s.padding === 'same') return [s.n, s.d, s.h, s.w, s.cout];
  const od = s.d - s.kd + 1;
  const oh = s.h - s.kh + 1;
  const ow = s.w - s.kw + 1;
  if (od < 1 || oh < 1 || ow < 1) throw new Error(`conv3d: kernel ${s.kd}×${s.kh}×${s.kw} larger than input ${s.d}×${s.h}×${s.w} with valid padding`);
  return [s.n, od, oh, ow, s.cout];
}

/** Multiply-adds ×2 of the forward pass (each backward pass costs the same). */
export function conv3dFlops(s: Conv3dShape): number {
  const [n, od, oh, ow, cout] = conv3dOutShape(s);
  return 2 * n * od * oh * ow * cout * s.kd * s.kh * s.kw * s.cin;
}

/** The two directions that are convolutions of an activation (forward, and backward_input of dy with the flipped kernel). */
export type Conv3dDirection = 'forward' | 'backward_input';

/** The three passes whose kernel `ser tune` chooses per layer shape (and blocking, for the first two). */
export type Conv3dPass = Conv3dDirection | 'backward_weight';

/**
 * A layer shape as `ser tune` files its choice: everything but the batch, since the
 * blocking measured fastest at one batch size serves the others (the position count
 * scales, the per-invocation work does not).
 */
export function conv3dTuneKey(direction: Conv3dPass, s: Conv3dShape): string {
  return `${direction} ${s.d}×${s.h}×${s.w}×${s.cin}→${s.cout} ${s.kd}×${s.kh}×${s.kw} ${s.padding}`;
}

/** Bytes of one sample's input and output activations. */
export function conv3dSampleBytes(s: Conv3dShape): { x: number; y: number } {
  const [, od, oh, ow] = conv3dOutShape(s);
  return { x: s.d * s.h * s.w * s.cin * 4, y: od * oh * ow * s.cout * 4 };
}
