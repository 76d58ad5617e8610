// conv3d of a 1×3×3 kernel by Winograd F(m×m, 3×3), m = 2 or 4, in all three passes:
// forward and backward_input, the kernel, input and output transforms
// (conv3d_winograd_{weights,input,output}.wgsl) around (m + 2)² GEMMs that are 1×1×1
// forward convolutions; backward_weight, the input and gradient transforms
// (conv3d_winograd_{input,dy}.wgsl) around (m + 2)² GEMMs that are 1×1×1
// backward_weights, and the kernel gradient's transform (conv3d_winograd_dw.wgsl).
// conv3d.ts runs the GEMMs on the device's default kernels and passes them in, so this
// module does not import it. A `ser tune` candidate (src/kernels/conv3d_tune.ts), never
// a default.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';
import type { Binding } from './binding.js';
import { conv3dOutShape, conv3dPads, conv3dSampleBytes, type Conv3dDirection, type Conv3dShape } from './conv3d_shape.js';
import type { Gpu } from './gpu-core.js';

/** Runs M = V · U over bindings holding [T, Cin] (x), [Cin, Cout] (w) and [T, Cout] (y) as a 1×1×1 forward of shape `s`. */
export type WinogradGemm = (r: Recorder, s: Conv3dShape, buffers: Record<'x' | 'w' | 'y', Binding>) => void;

/**
 * Runs dU += Vᵀ · Ŷ over bindings holding [T, Cin] (x), [T, Cout] (dy) and [Cin, Cout]
 * (dw) as a 1×1×1 backward_weight of shape `s`, and db += Ŷ's column sums unless db is null.
 */
export type WinogradWeightGemm = (r: Recorder, s: Conv3dShape, buffers: { x: Binding; dy: Binding; dw: Binding; db: Binding | null }) => void;

export const CONV3D_WINOGRAD_INPUT: KernelSpec = {
  shader: 'conv3d_winograd_input',
  params: ['n', 'd', 'h', 'w', 'c', 'th', 'tw', 'ph', 'pw', 't', 't_pad'].map((f) => [f, 'u32'] as const),
  inputs: ['a'],
  outputs: ['v'],
};
export const CONV3D_WINOGRAD_WEIGHTS: KernelSpec = {
  shader: 'conv3d_winograd_weights',
  params: [['cin', 'u32'], ['cout', 'u32'], ['stride', 'u32']],
  inputs: ['w'],
  outputs: ['u'],
};
export const CONV3D_WINOGRAD_DY: KernelSpec = {
  shader: 'conv3d_winograd_dy',
  params: ['oh', 'ow', 'c', 'th', 'tw', 't', 't_pad'].map((f) => [f, 'u32'] as const),
  inputs: ['dy'],
  outputs: ['g'],
};
export const CONV3D_WINOGRAD_DW: KernelSpec = {
  shader: 'conv3d_winograd_dw',
  params: [['cin', 'u32'], ['cout', 'u32'], ['stride', 'u32']],
  inputs: ['du'],
  outputs: ['dw'],
};
export const CONV3D_WINOGRAD_OUTPUT: KernelSpec = {
  shader: 'conv3d_winograd_output',
  params: ['oh', 'ow', 'c', 'th', 'tw', 't', 't_pad', 'has_bias'].map((f) => [f, 'u32'] as const),
  inputs: ['m', 'bias'],
  outputs: ['y'],
};

/** Outputs per tile side: F(2×2, 3×3) or F(4×4, 3×3). */
export type WinogradTile = 2 | 4;

/**
 * The tile a dispatch asking for Winograd without naming one runs (`ser tune` times both):
 * F(4×4, 3×3) spends 36 multiply-adds per 16 outputs and channel pair against
 * F(2×2, 3×3)'s 16 per 4, and transforms 2.25 values per output instead of 4.
 */
export const WINOGRAD_DEFAULT_TILE: WinogradTile = 4;

/** Tiles of a Winograd F(m×m, 3×3) convolution whose output is [N, D, OH, OW, C]: T, padded to whole 64s so every ξ slice is bindable. */
function winogradTiles(tile: WinogradTile, n: number, d: number, oh: number, ow: number): { th: number; tw: number; t: number; tPad: number } {
  const th = Math.ceil(oh / tile);
  const tw = Math.ceil(ow / tile);
  const t = n * d * th * tw;
  return { th, tw, t, tPad: Math.ceil(t / 64) * 64 };
}

/**
 * Whether the Winograd path can run shape `s` in `direction` with `tile`: a 1×3×3
 * kernel, channel counts that are multiples of 4, and its transformed tensors
 * ([(m + 2)², T, C]: 4× the activations for m = 2, 2.25× for m = 4) within one
 * storage binding.
 */
export function winogradApplies(gpu: Gpu, s: Conv3dShape, direction: Conv3dDirection, tile: WinogradTile = WINOGRAD_DEFAULT_TILE): boolean {
  // A tile read from a damaged or foreign tuning cache is neither: the default kernel runs.
  if (tile !== 2 && tile !== 4) return false;
  if (s.kd !== 1 || s.kh !== 3 || s.kw !== 3 || s.cin % 4 !== 0 || s.cout % 4 !== 0) return false;
  const [, od, oh, ow] = direction === 'forward' ? conv3dOutShape(s) : [s.n, s.d, s.h, s.w];
  const { tPad } = winogradTiles(tile, s.n, od, oh, ow);
  const bytes = conv3dSampleBytes(s);
  const limit = Math.min(gpu.maxBindingBytes, gpu.limits.maxBufferSize);
  return (tile + 2) ** 2 * tPad * Math.max(s.cin, s.cout) * 4 <= limit && s.n * Math.max(bytes.x, bytes.y) <= gpu.maxBindingBytes;
}

/**
 * conv3d of a 1×3×3 kernel by Winograd F(m×m, 3×3), m = `tile`, α = m + 2: kernel
 * transform U = G g Gᵀ, input transform V = Bᵀ d B of every α×α patch of an m×m
 * output tile, α² GEMMs M_ξ = V_ξ · U_ξ (the device's 1×1×1 forward kernel over
 * [T, C] matrices), output transform Aᵀ M A: α² multiply-adds per tile and channel
 * pair where direct convolution spends 9m² (16 against 36 for m = 2, 36 against 144
 * for m = 4). Forward: y = conv(x, w) + b. backward_input: dx += the
 * convolution of dy with the flipped, transposed kernel (pads 2 − p), or dx = it
 * with `accumulate` false (the output transform writes every element). Winograd
 * reassociates the sums, so results differ from the direct kernels' by float32
 * rounding of the transforms (test/conv3d.test.ts; m = 4's transforms have larger
 * coefficients, so its rounding is larger). With `keep` (forward only) the transformed
 * input V goes to the buffer `keep` returns, which the caller owns, and is returned for
 * conv3dWinogradBackwardWeight of the same x and tile, which then skips its own input
 * transform.
 */
export function conv3dWinograd(
  r: Recorder,
  direction: Conv3dDirection,
  out: GPUBuffer,
  a: GPUBuffer,
  w: GPUBuffer,
  b: GPUBuffer | null,
  s: Conv3dShape,
  gemm: WinogradGemm,
  tile: WinogradTile = WINOGRAD_DEFAULT_TILE,
  { keep, accumulate = true }: { keep?: (bytes: number) => GPUBuffer; accumulate?: boolean } = {},
): GPUBuffer | null {
  const forward = direction === 'forward';
  const [, od, oh, ow] = conv3dOutShape(s);
  const [, ph, pw] = conv3dPads(s);
  // The tensor transformed (x, or dy), its channels, and the output's dims and channels.
  const src = forward ? { d: s.d, h: s.h, w: s.w, c: s.cin } : { d: od, h: oh, w: ow, c: s.cout };
  const dst = forward ? { d: od, h: oh, w: ow, c: s.cout } : { d: s.d, h: s.h, w: s.w, c: s.cin };
  const pads = forward ? [ph, pw] : [s.kh - 1 - ph, s.kw - 1 - pw];
  const { th, tw, t, tPad } = winogradTiles(tile, s.n, dst.d, dst.h, dst.w);
  const xis = (tile + 2) ** 2;
  const uStride = Math.ceil((s.cin * s.cout) / 64) * 64;
  const u = r.acquire(xis * uStride * 4, 'winograd kernel');
  const vBytes = xis * tPad * src.c * 4;
  const v = keep ? keep(vBytes) : r.acquire(vBytes, 'winograd input');
  const m = r.acquire(xis * tPad * dst.c * 4, 'winograd products');
  r.dispatch(CONV3D_WINOGRAD_WEIGHTS, {
    params: { cin: s.cin, cout: s.cout, stride: uStride },
    buffers: { w, u },
    constants: { WG: WINOGRAD_WG, TILE: tile, FLIP: forward ? 0 : 1 },
    workgroups: grid1d(r.gpu, s.cin * s.cout, WINOGRAD_WG),
  });
  winogradInput(r, a, v, { n: s.n, ...src }, pads[0]!, pads[1]!, { th, tw, t, tPad }, tile);
  const gemmShape: Conv3dShape = { n: 1, d: 1, h: 1, w: tPad, cin: src.c, cout: dst.c, kd: 1, kh: 1, kw: 1, padding: 'same' };
  for (let xi = 0; xi < xis; xi++) {
    gemm(r, gemmShape, {
      x: { buffer: v, offset: xi * tPad * src.c * 4, size: tPad * src.c * 4 },
      w: { buffer: u, offset: xi * uStride * 4, size: s.cin * s.cout * 4 },
      y: { buffer: m, offset: xi * tPad * dst.c * 4, size: tPad * dst.c * 4 },
    });
  }
  r.dispatch(CONV3D_WINOGRAD_OUTPUT, {
    params: { oh: dst.h, ow: dst.w, c: dst.c, th, tw, t, t_pad: tPad, has_bias: b ? 1 : 0 },
    buffers: { m, bias: b ?? u, y: out },
    constants: { WG: WINOGRAD_WG, TILE: tile, ACCUMULATE: !forward && accumulate ? 1 : 0 },
    workgroups: grid1d(r.gpu, (t * dst.c) / 4, WINOGRAD_WG),
  });
  for (const buf of keep ? [u, m] : [u, v, m]) r.release(buf);
  return keep ? v : null;
}

/**
 * backward_weight of a 1×3×3 kernel by Winograd F(m×m, 3×3): the forward's output is
 * Y = Aᵀ [U ⊙ V] A summed over input channels, so with Ŷ = A dy Aᵀ (d(loss)/dM, the
 * gradient lifted into the transform domain) the kernel's gradient there is
 * dU_ξ = V_ξᵀ · Ŷ_ξ, α² GEMMs over the tiles (the device's 1×1×1 backward_weight kernel
 * over [T, C] matrices), and dw += Gᵀ dU G. A's second row sums a tile, so db is the
 * column sums of Ŷ at ξ = α + 1, which that GEMM adds on its own. α² multiply-adds per
 * tile and channel pair where the direct kernels spend 9m². `kept`: V of this x and tile
 * from the forward (conv3dWinograd's `keep`); the input transform is then skipped, and
 * the buffer stays the caller's.
 */
export function conv3dWinogradBackwardWeight(
  r: Recorder,
  dw: GPUBuffer,
  db: GPUBuffer | null,
  dy: GPUBuffer,
  x: GPUBuffer,
  s: Conv3dShape,
  gemm: WinogradWeightGemm,
  tile: WinogradTile = WINOGRAD_DEFAULT_TILE,
  kept?: GPUBuffer,
): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const [, ph, pw] = conv3dPads(s);
  const { th, tw, t, tPad } = winogradTiles(tile, s.n, od, oh, ow);
  const alpha = tile + 2;
  const xis = alpha * alpha;
  const uStride = Math.ceil((s.cin * s.cout) / 64) * 64;
  const v = kept ?? r.acquire(xis * tPad * s.cin * 4, 'winograd input');
  const g = r.acquire(xis * tPad * s.cout * 4, 'winograd gradient');
  const du = r.acquire(xis * uStride * 4, 'winograd kernel gradient');
  if (!kept) winogradInput(r, x, v, { n: s.n, d: s.d, h: s.h, w: s.w, c: s.cin }, ph, pw, { th, tw, t, tPad }, tile);
  r.dispatch(CONV3D_WINOGRAD_DY, {
    params: { oh, ow, c: s.cout, th, tw, t, t_pad: tPad },
    buffers: { dy, g },
    constants: { WG: WINOGRAD_WG, TILE: tile },
    workgroups: grid1d(r.gpu, (tPad * s.cout) / 4, WINOGRAD_WG),
  });
  r.clear(du);
  const gemmShape: Conv3dShape = { n: 1, d: 1, h: 1, w: tPad, cin: s.cin, cout: s.cout, kd: 1, kh: 1, kw: 1, padding: 'same' };
  for (let xi = 0; xi < xis; xi++) {
    gemm(r, gemmShape, {
      x: { buffer: v, offset: xi * tPad * s.cin * 4, size: tPad * s.cin * 4 },
      dy: { buffer: g, offset: xi * tPad * s.cout * 4, size: tPad * s.cout * 4 },
      dw: { buffer: du, offset: xi * uStride * 4, size: s.cin * s.cout * 4 },
      db: xi === alpha + 1 ? db : null,
    });
  }
  r.dispatch(CONV3D_WINOGRAD_DW, {
    params: { cin: s.cin, cout: s.cout, stride: uStride },
    buffers: { du, dw },
    constants: { WG: WINOGRAD_WG, TILE: tile },
    workgroups: grid1d(r.gpu, s.cin * s.cout, WINOGRAD_WG),
  });
  for (const buf of kept ? [g, du] : [v, g, du]) r.release(buf);
}

const WINOGRAD_WG = 64;

/** V = Bᵀ d B of every α×α input patch of tensor `a` ([N, D, H, W, C]) into v ([α², T_pad, C]). */
function winogradInput(
  r: Recorder,
  a: GPUBuffer,
  v: GPUBuffer,
  dims: { n: number; d: number; h: number; w: number; c: number },
  ph: number,
  pw: number,
  tiles: { th: number; tw: number; t: number; tPad: number },
  tile: WinogradTile,
): void {
  r.dispatch(CONV3D_WINOGRAD_INPUT, {
    params: { ...dims, th: tiles.th, tw: tiles.tw, ph, pw, t: tiles.t, t_pad: tiles.tPad },
    buffers: { a, v },
    constants: { WG: WINOGRAD_WG, TILE: tile },
    workgroups: grid1d(r.gpu, (tiles.tPad * dims.c) / 4, WINOGRAD_WG),
  });
}

