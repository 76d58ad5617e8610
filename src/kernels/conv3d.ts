// conv3d (stride 1, `same` or `valid` padding) as tiled implicit GEMMs.
// Shaders: conv3d_forward, conv3d_backward_input, conv3d_backward_weight and
// conv3d_backward_reduce. Reference: src/ref/conv3d.ts.
//
//   forward          Y[M, Cout]  = A_x[M, K] · W[K, Cout]               M = N·OD·OH·OW, K = kd·kh·kw·Cin
//   backward_input   dX[Mi, Cin] += A_dy[Mi, K'] · W^T[K', Cin]         Mi = N·D·H·W,  K' = kd·kh·kw·Cout
//   backward_weight  [dW; db][K+1, Cout] += A_x^T[K+1, M] · dY[M, Cout] (a ones row gives db), split over M
import { Gpu } from './gpu.js';
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

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

/** Tile sizes of one GEMM: a workgroup computes BM×BN outputs in BK-slices, TM×TN per invocation. */
export interface Conv3dTiles {
  bm: number;
  bn: number;
  bk: number;
  tm: number;
  tn: number;
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

const GEOMETRY: readonly (readonly [string, 'u32'])[] = [
  ['n', 'u32'], ['d', 'u32'], ['h', 'u32'], ['w', 'u32'], ['cin', 'u32'],
  ['od', 'u32'], ['oh', 'u32'], ['ow', 'u32'], ['cout', 'u32'],
  ['kd', 'u32'], ['kh', 'u32'], ['kw', 'u32'],
  ['pd', 'u32'], ['ph', 'u32'], ['pw', 'u32'],
];

export const CONV3D_FORWARD: KernelSpec = {
  shader: 'conv3d_forward',
  params: [...GEOMETRY, ['m', 'u32'], ['k', 'u32'], ['has_bias', 'u32']],
  inputs: ['x', 'w', 'b'],
  outputs: ['y'],
};

export const CONV3D_BACKWARD_INPUT: KernelSpec = {
  shader: 'conv3d_backward_input',
  params: [...GEOMETRY, ['m', 'u32'], ['k', 'u32']],
  inputs: ['dy', 'w'],
  outputs: ['dx'],
};

export const CONV3D_BACKWARD_WEIGHT: KernelSpec = {
  shader: 'conv3d_backward_weight',
  params: [...GEOMETRY, ['m', 'u32'], ['k', 'u32'], ['tiles_per_split', 'u32']],
  inputs: ['dy', 'x'],
  outputs: ['partial'],
};

export const CONV3D_BACKWARD_REDUCE: KernelSpec = {
  shader: 'conv3d_backward_reduce',
  params: [['n', 'u32'], ['splits', 'u32'], ['stride', 'u32'], ['base', 'u32']],
  inputs: ['partial'],
  outputs: ['out'],
};

function geometry(s: Conv3dShape): Record<string, number> {
  const [, od, oh, ow] = conv3dOutShape(s);
  const [pd, ph, pw] = conv3dPads(s);
  return { n: s.n, d: s.d, h: s.h, w: s.w, cin: s.cin, od, oh, ow, cout: s.cout, kd: s.kd, kh: s.kh, kw: s.kw, pd, ph, pw };
}

/**
 * Tiles for a GEMM of `rows`×`cols` outputs: the narrowest power-of-two column tile
 * that covers `cols` (so Cin = 1 in backward_input wastes no columns), row tiles as
 * large as the row count allows while leaving several workgroups per core.
 */
export function chooseTiles(rows: number, cols: number): Conv3dTiles {
  const bn = cols <= 4 ? 4 : cols <= 8 ? 8 : cols <= 16 ? 16 : cols <= 32 ? 32 : 64;
  let bm = rows >= 1024 ? 64 : rows >= 256 ? 32 : 16;
  // A narrow column tile needs taller row tiles to keep a workgroup busy.
  if (bn <= 8 && rows >= 2048) bm = 128;
  // An 8×4 block halves the workgroup-memory reads per multiply-add of a 4×4 one
  // (measured 1.4× faster on lavapipe for the report's conv2).
  return { bm, bn, bk: 16, tm: bm === 64 && bn === 64 ? 8 : 4, tn: 4 };
}

/** Override constants of a tile choice, validated against the device limits. */
function tileConstants(gpu: Gpu, t: Conv3dTiles, shader: string): Record<string, number> {
  const wgX = t.bn / t.tn;
  const wgY = t.bm / t.tm;
  const threads = wgX * wgY;
  const ok =
    [t.bm, t.bn, t.bk, t.tm, t.tn].every((v) => Number.isInteger(v) && v > 0 && v % 4 === 0) &&
    t.bm % t.tm === 0 &&
    t.bn % t.tn === 0 &&
    // Each invocation stages the same 4 rows of A for every K-slice.
    threads % (t.bm / 4) === 0;
  if (!ok) throw new Error(`${shader}: invalid tiles ${JSON.stringify(t)}`);
  const lim = gpu.limits;
  if (threads > lim.maxComputeInvocationsPerWorkgroup || wgX > lim.maxComputeWorkgroupSizeX || wgY > lim.maxComputeWorkgroupSizeY) {
    throw new Error(`${shader}: ${wgX}×${wgY} invocations exceed the device's workgroup limits`);
  }
  if ((t.bm + t.bn) * t.bk * 4 > lim.maxComputeWorkgroupStorageSize) {
    throw new Error(`${shader}: tiles ${JSON.stringify(t)} exceed ${lim.maxComputeWorkgroupStorageSize} bytes of workgroup storage`);
  }
  return { BM: t.bm, BN: t.bn, BK: t.bk, TM: t.tm, TN: t.tn, WG_X: wgX, WG_Y: wgY };
}

/** Workgroups (cols, rows) with the row tiles folded into z past the per-dimension limit. */
function tileGrid(gpu: Gpu, rows: number, cols: number, t: Conv3dTiles): [number, number, number] {
  const gx = Math.ceil(cols / t.bn);
  const gy = Math.ceil(rows / t.bm);
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  const z = Math.ceil(gy / max);
  return [gx, Math.ceil(gy / z), z];
}

/** The shaders bind x, w and dy as vec4 arrays. */
function checkVec4(shader: string, bufs: Record<string, GPUBuffer>): void {
  for (const [name, b] of Object.entries(bufs)) {
    if (b.size % 16 !== 0) throw new Error(`${shader}: buffer ${name} must be sized to a multiple of 16 bytes (got ${b.size})`);
  }
}

/** y = conv3d(x, w) + b (overwrites y). */
export function conv3dForward(r: Recorder, y: GPUBuffer, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, s: Conv3dShape, tiles?: Conv3dTiles): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const m = s.n * od * oh * ow;
  const k = s.kd * s.kh * s.kw * s.cin;
  const t = tiles ?? chooseTiles(m, s.cout);
  checkVec4(CONV3D_FORWARD.shader, { x, w });
  r.dispatch(CONV3D_FORWARD, {
    params: { ...geometry(s), m, k, has_bias: b ? 1 : 0 },
    // Without a bias the binding still needs a buffer; w is read-only here too, so it can alias.
    buffers: { x, w, b: b ?? w, y },
    constants: { ...tileConstants(r.gpu, t, CONV3D_FORWARD.shader), VEC_A: s.cin % 4 === 0 ? 1 : 0, VEC_B: s.cout % 4 === 0 ? 1 : 0 },
    workgroups: tileGrid(r.gpu, m, s.cout, t),
  });
}

/** dx += d(loss)/dx given dy (the forward convolution of dy with the flipped, transposed kernel). */
export function conv3dBackwardInput(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, w: GPUBuffer, s: Conv3dShape, tiles?: Conv3dTiles): void {
  const m = s.n * s.d * s.h * s.w;
  const k = s.kd * s.kh * s.kw * s.cout;
  const t = tiles ?? chooseTiles(m, s.cin);
  checkVec4(CONV3D_BACKWARD_INPUT.shader, { dy, w });
  r.dispatch(CONV3D_BACKWARD_INPUT, {
    params: { ...geometry(s), m, k },
    buffers: { dy, w, dx },
    constants: { ...tileConstants(r.gpu, t, CONV3D_BACKWARD_INPUT.shader), VEC: s.cout % 4 === 0 ? 1 : 0 },
    workgroups: tileGrid(r.gpu, m, s.cin, t),
  });
}

/** Workgroups the split-K reduction aims for, so small K·Cout still fills the device. */
const SPLIT_TARGET_WORKGROUPS = 256;
/** Fewest BK-slices of positions per split: fewer make the partials cost more than they save. */
const MIN_TILES_PER_SPLIT = 8;
/** Upper bound on the partial-sum scratch buffer. */
const MAX_PARTIAL_BYTES = 64 << 20;

/** How the position reduction of backward_weight is split across workgroups. */
export function conv3dWeightSplits(s: Conv3dShape, t: Conv3dTiles, maxPerDim = 65535): { splits: number; tilesPerSplit: number } {
  const [, od, oh, ow] = conv3dOutShape(s);
  const pTiles = Math.ceil((s.n * od * oh * ow) / t.bk);
  const rows = s.kd * s.kh * s.kw * s.cin + 1;
  const tiles = Math.ceil(rows / t.bm) * Math.ceil(s.cout / t.bn);
  let splits = Math.ceil(SPLIT_TARGET_WORKGROUPS / tiles);
  splits = Math.min(splits, Math.ceil(pTiles / MIN_TILES_PER_SPLIT), Math.floor(MAX_PARTIAL_BYTES / (rows * s.cout * 4)), maxPerDim);
  splits = Math.max(1, splits);
  const tilesPerSplit = Math.ceil(pTiles / splits);
  return { splits: Math.ceil(pTiles / tilesPerSplit), tilesPerSplit };
}

/** dw += d(loss)/dw and, unless db is null, db += d(loss)/db, given dy and the forward input x. */
export function conv3dBackwardWeight(r: Recorder, dw: GPUBuffer, db: GPUBuffer | null, dy: GPUBuffer, x: GPUBuffer, s: Conv3dShape, tiles?: Conv3dTiles): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const p = s.n * od * oh * ow;
  const k = s.kd * s.kh * s.kw * s.cin;
  const rows = k + 1;
  const t = tiles ?? chooseTiles(rows, s.cout);
  checkVec4(CONV3D_BACKWARD_WEIGHT.shader, { dy, x });
  const { splits, tilesPerSplit } = conv3dWeightSplits(s, t, r.gpu.limits.maxComputeWorkgroupsPerDimension);
  const partial = r.pool.acquire(splits * rows * s.cout * 4, 'conv3d partials');
  r.dispatch(CONV3D_BACKWARD_WEIGHT, {
    params: { ...geometry(s), m: p, k, tiles_per_split: tilesPerSplit },
    buffers: { dy, x, partial },
    constants: { ...tileConstants(r.gpu, t, CONV3D_BACKWARD_WEIGHT.shader), VEC_A: s.cin % 4 === 0 ? 1 : 0, VEC_B: s.cout % 4 === 0 ? 1 : 0 },
    workgroups: [Math.ceil(s.cout / t.bn), Math.ceil(rows / t.bm), splits],
  });
  const reduce = (out: GPUBuffer, base: number, n: number): void =>
    r.dispatch(CONV3D_BACKWARD_REDUCE, {
      params: { n, splits, stride: rows * s.cout, base },
      buffers: { partial, out },
      constants: { WG: REDUCE_WG },
      workgroups: grid1d(r.gpu, n, REDUCE_WG),
    });
  reduce(dw, 0, k * s.cout);
  if (db) reduce(db, k * s.cout, s.cout);
  r.releaseAfterSubmit(partial);
}

const REDUCE_WG = 256;
