// conv3d (stride 1, `same` or `valid` padding). Reference: src/ref/conv3d.ts.
// Two sets of shaders, both without workgroup memory or barriers (docs/PERFORMANCE.md):
//   subgroup  conv3d_forward_subgroup, conv3d_backward_input_subgroup,
//             conv3d_backward_weight_subgroup: the operand a workgroup shares is loaded
//             once per 8 lanes and handed round with subgroup shuffles. Used where the
//             device has them (gpu.features.shuffle8).
//   direct    conv3d_forward, conv3d_backward_input, conv3d_backward_weight: every
//             invocation loads the shared operand itself. Portable; used elsewhere.
// Both weight kernels write split partial sums that conv3d_backward_reduce adds up.
//
//   forward          Y[M, Cout]  = A_x[M, K] · W[K, Cout]               M = N·OD·OH·OW, K = kd·kh·kw·Cin
//   backward_input   dX[Mi, Cin] += A_dy[Mi, K'] · W^T[K', Cin]         Mi = N·D·H·W,  K' = kd·kh·kw·Cout
//   backward_weight  [dW; db][K+1, Cout] += A_x^T[K+1, M] · dY[M, Cout] (a ones row gives db), split over M
import { Gpu } from './gpu.js';
import { bindingRuns, grid1d, rowRange, type KernelSpec, type Recorder } from './kernel.js';

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

/** Which set of shaders runs: see the header. */
export type Conv3dKernel = 'subgroup' | 'direct';

/** The kernels this device runs by default. */
export function conv3dKernel(gpu: Gpu): Conv3dKernel {
  return gpu.features.shuffle8 ? 'subgroup' : 'direct';
}

/**
 * Blocking of the subgroup forward and backward_input: WG invocations per workgroup
 * (a multiple of 8), each owning TP positions (WG apart) × the workgroup's 32 channels.
 */
export interface Conv3dSubgroupTiles {
  wg: number;
  tp: number;
}

/**
 * 3 positions per invocation (96 accumulators) measured fastest on lavapipe for the
 * report's layers 2–5 (5–10 % ahead of 2; 4 spill and run at half the speed;
 * docs/PERFORMANCE.md).
 */
export const CONV3D_SUBGROUP_TILES: Conv3dSubgroupTiles = { wg: 64, tp: 3 };

/** Output channels per workgroup (forward) or input channels (backward_input) of the subgroup kernels: 8 lanes × vec4. */
const SUBGROUP_CHANNELS = 32;

/** Options of the conv3d dispatchers: which kernels, and their blocking (tests use small blockings). */
export interface Conv3dOptions {
  kernel?: Conv3dKernel;
  direct?: Conv3dDirectTiles;
  subgroup?: Conv3dSubgroupTiles;
}

function chooseKernel(gpu: Gpu, o: Conv3dOptions, shader: string): Conv3dKernel {
  const k = o.kernel ?? conv3dKernel(gpu);
  if (k === 'subgroup' && !gpu.features.shuffle8) throw new Error(`${shader}: the subgroup kernels need subgroups in aligned groups of 8 lanes, which this device lacks`);
  return k;
}

/**
 * Blocking of the direct forward and backward_input: WG invocations per workgroup,
 * each owning TP positions (WG apart, so one load instruction reads consecutive
 * positions across invocations) × TN output channels (the same for the whole
 * workgroup, so weight reads are uniform). Each activation read feeds TN
 * multiply-adds, each weight read TP.
 */
export interface Conv3dDirectTiles {
  wg: number;
  tp: number;
  tn: number;
}

/**
 * One blocking for every shape, so there are at most four forward and two
 * backward_input pipelines (the vec4 flags). 4 positions × 8 channels measured
 * fastest on lavapipe for the report's conv2; more accumulators spill
 * (docs/PERFORMANCE.md).
 */
export const CONV3D_DIRECT_TILES: Conv3dDirectTiles = { wg: 64, tp: 4, tn: 8 };

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

export const CONV3D_FORWARD_SUBGROUP: KernelSpec = { ...CONV3D_FORWARD, shader: 'conv3d_forward_subgroup' };
export const CONV3D_BACKWARD_INPUT_SUBGROUP: KernelSpec = { ...CONV3D_BACKWARD_INPUT, shader: 'conv3d_backward_input_subgroup' };

export const CONV3D_BACKWARD_WEIGHT_SUBGROUP: KernelSpec = {
  shader: 'conv3d_backward_weight_subgroup',
  params: [...GEOMETRY, ['m', 'u32'], ['k', 'u32'], ['chunk', 'u32'], ['cblocks', 'u32'], ['rblocks', 'u32']],
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

/** Override constants of a subgroup blocking, validated against the shader's array sizes and the device limits. */
function subgroupConstants(gpu: Gpu, t: Conv3dSubgroupTiles, shader: string): Record<string, number> {
  const ok = Number.isInteger(t.wg) && t.wg > 0 && t.wg % 8 === 0 && Number.isInteger(t.tp) && t.tp >= 1 && t.tp <= 4;
  if (!ok) throw new Error(`${shader}: invalid blocking ${JSON.stringify(t)}`);
  if (t.wg > gpu.limits.maxComputeInvocationsPerWorkgroup || t.wg > gpu.limits.maxComputeWorkgroupSizeX) {
    throw new Error(`${shader}: ${t.wg} invocations exceed the device's workgroup limits`);
  }
  return { WG: t.wg, TP: t.tp };
}

/** Override constants of a direct blocking, validated against the shader's array sizes and the device limits. */
function directConstants(gpu: Gpu, t: Conv3dDirectTiles, shader: string): Record<string, number> {
  const ok = [t.wg, t.tp, t.tn].every((v) => Number.isInteger(v) && v > 0) && t.tn % 4 === 0 && t.tp <= 8 && t.tp * t.tn <= 64;
  if (!ok) throw new Error(`${shader}: invalid blocking ${JSON.stringify(t)}`);
  if (t.wg > gpu.limits.maxComputeInvocationsPerWorkgroup || t.wg > gpu.limits.maxComputeWorkgroupSizeX) {
    throw new Error(`${shader}: ${t.wg} invocations exceed the device's workgroup limits`);
  }
  return { WG: t.wg, TP: t.tp, TN: t.tn };
}

/** Workgroups (channel blocks, position blocks) with the position blocks folded into z past the per-dimension limit. */
function directGrid(gpu: Gpu, rows: number, cols: number, t: Conv3dDirectTiles): [number, number, number] {
  const gy = Math.ceil(rows / (t.wg * t.tp));
  const z = Math.ceil(gy / gpu.limits.maxComputeWorkgroupsPerDimension);
  return [Math.ceil(cols / t.tn), Math.ceil(gy / z), z];
}

/** The shaders bind x, w and dy as vec4 arrays (slices are bound to a 16-byte boundary, see kernel.ts bindingRange). */
function checkVec4(shader: string, bufs: Record<string, GPUBuffer>): void {
  for (const [name, b] of Object.entries(bufs)) {
    if (b.size % 16 !== 0) throw new Error(`${shader}: buffer ${name} must be sized to a multiple of 16 bytes (got ${b.size})`);
  }
}

/** Bytes of one sample's input and output activations. */
function sampleBytes(s: Conv3dShape): { x: number; y: number } {
  const [, od, oh, ow] = conv3dOutShape(s);
  return { x: s.d * s.h * s.w * s.cin * 4, y: od * oh * ow * s.cout * 4 };
}

/**
 * y = conv3d(x, w) + b (overwrites y). Samples are independent, so a batch whose
 * activations exceed one storage binding runs as several dispatches over slices.
 */
export function conv3dForward(r: Recorder, y: GPUBuffer, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, s: Conv3dShape, o: Conv3dOptions = {}): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const k = s.kd * s.kh * s.kw * s.cin;
  const kernel = chooseKernel(r.gpu, o, CONV3D_FORWARD.shader);
  checkVec4(CONV3D_FORWARD.shader, { x, w });
  const vec = { VEC_A: s.cin % 4 === 0 ? 1 : 0, VEC_B: s.cout % 4 === 0 ? 1 : 0 };
  const bytes = sampleBytes(s);
  for (const run of bindingRuns(r.gpu, s.n, [bytes.x, bytes.y])) {
    const m = run.count * od * oh * ow;
    const common = {
      params: { ...geometry({ ...s, n: run.count }), m, k, has_bias: b ? 1 : 0 },
      // Without a bias the binding still needs a buffer; w is read-only here too, so it can alias.
      buffers: { x: rowRange(x, run, bytes.x), w, b: b ?? w, y: rowRange(y, run, bytes.y) },
    };
    if (kernel === 'subgroup') {
      const t = o.subgroup ?? CONV3D_SUBGROUP_TILES;
      r.dispatch(CONV3D_FORWARD_SUBGROUP, {
        ...common,
        constants: { ...subgroupConstants(r.gpu, t, CONV3D_FORWARD_SUBGROUP.shader), ...vec },
        workgroups: directGrid(r.gpu, m, s.cout, { wg: t.wg, tp: t.tp, tn: SUBGROUP_CHANNELS }),
      });
    } else {
      const t = o.direct ?? CONV3D_DIRECT_TILES;
      r.dispatch(CONV3D_FORWARD, {
        ...common,
        constants: { ...directConstants(r.gpu, t, CONV3D_FORWARD.shader), ...vec },
        workgroups: directGrid(r.gpu, m, s.cout, t),
      });
    }
  }
}

/** dx += d(loss)/dx given dy (the forward convolution of dy with the flipped, transposed kernel). */
export function conv3dBackwardInput(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, w: GPUBuffer, s: Conv3dShape, o: Conv3dOptions = {}): void {
  const k = s.kd * s.kh * s.kw * s.cout;
  const kernel = chooseKernel(r.gpu, o, CONV3D_BACKWARD_INPUT.shader);
  checkVec4(CONV3D_BACKWARD_INPUT.shader, { dy, w });
  const bytes = sampleBytes(s);
  for (const run of bindingRuns(r.gpu, s.n, [bytes.x, bytes.y])) {
    const m = run.count * s.d * s.h * s.w;
    const common = {
      params: { ...geometry({ ...s, n: run.count }), m, k },
      buffers: { dy: rowRange(dy, run, bytes.y), w, dx: rowRange(dx, run, bytes.x) },
    };
    if (kernel === 'subgroup') {
      const t = o.subgroup ?? CONV3D_SUBGROUP_TILES;
      r.dispatch(CONV3D_BACKWARD_INPUT_SUBGROUP, {
        ...common,
        constants: { ...subgroupConstants(r.gpu, t, CONV3D_BACKWARD_INPUT_SUBGROUP.shader), VEC: s.cout % 4 === 0 ? 1 : 0 },
        workgroups: directGrid(r.gpu, m, s.cin, { wg: t.wg, tp: t.tp, tn: SUBGROUP_CHANNELS }),
      });
    } else {
      const t = o.direct ?? CONV3D_DIRECT_TILES;
      r.dispatch(CONV3D_BACKWARD_INPUT, {
        ...common,
        constants: { ...directConstants(r.gpu, t, CONV3D_BACKWARD_INPUT.shader), VEC: s.cout % 4 === 0 ? 1 : 0 },
        workgroups: directGrid(r.gpu, m, s.cin, t),
      });
    }
  }
}

/**
 * Blocking of the direct backward_weight: a workgroup owns TK rows of [dW; db] × 4·WG
 * output channels and reduces over split tiles of PT positions.
 */
export const CONV3D_WEIGHT_BLOCK: { readonly wg: number; readonly tk: number; readonly pt: number } = { wg: 16, tk: 8, pt: 16 };

/**
 * Blocking of the subgroup backward_weight: tiles of 32 rows of [dW; db] × 32 output
 * channels, one per group of 8 lanes; splits of the position reduction are whole
 * multiples of 16 positions.
 */
export const CONV3D_WEIGHT_SUBGROUP_BLOCK: { readonly tile: number; readonly positions: number } = { tile: 32, positions: 16 };

/** Workgroups the split reduction aims for, so small K·Cout still fills the device. */
const SPLIT_TARGET_WORKGROUPS = 256;
/** Fewest position tiles per split: fewer make the partials cost more than they save. */
const MIN_TILES_PER_SPLIT = 8;
/** Upper bound on the partial-sum scratch buffer. */
const MAX_PARTIAL_BYTES = 64 << 20;

/**
 * How the position reduction of backward_weight is split across workgroups, for a
 * kernel whose workgroups own `block.rows` × `block.cols` of [dW; db] and step through
 * positions `block.positions` at a time.
 */
export function conv3dWeightSplits(
  s: Conv3dShape,
  maxPerDim = 65535,
  block = { rows: CONV3D_WEIGHT_BLOCK.tk, cols: 4 * CONV3D_WEIGHT_BLOCK.wg, positions: CONV3D_WEIGHT_BLOCK.pt },
): { splits: number; tilesPerSplit: number } {
  const [, od, oh, ow] = conv3dOutShape(s);
  const pTiles = Math.ceil((s.n * od * oh * ow) / block.positions);
  const rows = s.kd * s.kh * s.kw * s.cin + 1;
  const tiles = Math.ceil(rows / block.rows) * Math.ceil(s.cout / block.cols);
  let splits = Math.ceil(SPLIT_TARGET_WORKGROUPS / tiles);
  splits = Math.min(splits, Math.ceil(pTiles / MIN_TILES_PER_SPLIT), Math.floor(MAX_PARTIAL_BYTES / (rows * s.cout * 4)), maxPerDim);
  splits = Math.max(1, splits);
  const tilesPerSplit = Math.ceil(pTiles / splits);
  return { splits: Math.ceil(pTiles / tilesPerSplit), tilesPerSplit };
}

/**
 * dw += d(loss)/dw and, unless db is null, db += d(loss)/db, given dy and the
 * forward input x. Sliced batches (see conv3dForward) add their sums in turn.
 */
export function conv3dBackwardWeight(r: Recorder, dw: GPUBuffer, db: GPUBuffer | null, dy: GPUBuffer, x: GPUBuffer, s: Conv3dShape, o: Conv3dOptions = {}): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const k = s.kd * s.kh * s.kw * s.cin;
  const rows = k + 1;
  const kernel = chooseKernel(r.gpu, o, CONV3D_BACKWARD_WEIGHT.shader);
  checkVec4(CONV3D_BACKWARD_WEIGHT.shader, { dy, x });
  const vec = { VEC_A: s.cin % 4 === 0 ? 1 : 0, VEC_B: s.cout % 4 === 0 ? 1 : 0 };
  const bytes = sampleBytes(s);
  for (const run of bindingRuns(r.gpu, s.n, [bytes.x, bytes.y])) {
    const sliced = { ...s, n: run.count };
    const m = run.count * od * oh * ow;
    const buffers = { dy: rowRange(dy, run, bytes.y), x: rowRange(x, run, bytes.x) };
    const maxPerDim = r.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (kernel === 'subgroup') {
      const { tile, positions } = CONV3D_WEIGHT_SUBGROUP_BLOCK;
      const { splits, tilesPerSplit } = conv3dWeightSplits(sliced, maxPerDim, { rows: tile, cols: tile, positions });
      const [cblocks, rblocks] = [Math.ceil(s.cout / tile), Math.ceil(rows / tile)];
      // Four groups of 8 lanes per workgroup, unless there are fewer tiles than that.
      const groups = cblocks * rblocks >= 4 ? 4 : 1;
      const partial = r.pool.acquire(splits * rows * s.cout * 4, 'conv3d partials');
      r.dispatch(CONV3D_BACKWARD_WEIGHT_SUBGROUP, {
        params: { ...geometry(sliced), m, k, chunk: tilesPerSplit * positions, cblocks, rblocks },
        buffers: { ...buffers, partial },
        constants: { GROUPS: groups, ...vec },
        workgroups: [Math.ceil((cblocks * rblocks) / groups), splits],
      });
      conv3dReducePartials(r, dw, db, partial, splits, s);
    } else {
      const { wg, tk, pt } = CONV3D_WEIGHT_BLOCK;
      const { splits, tilesPerSplit } = conv3dWeightSplits(sliced, maxPerDim);
      const partial = r.pool.acquire(splits * rows * s.cout * 4, 'conv3d partials');
      r.dispatch(CONV3D_BACKWARD_WEIGHT, {
        params: { ...geometry(sliced), m, k, tiles_per_split: tilesPerSplit },
        buffers: { ...buffers, partial },
        constants: { WG: wg, TK: tk, PT: pt, ...vec },
        workgroups: [Math.ceil(s.cout / (4 * wg)), Math.ceil(rows / tk), splits],
      });
      conv3dReducePartials(r, dw, db, partial, splits, s);
    }
  }
}

/** dw += and db += the sums of backward_weight's partials [splits, K+1, Cout]; releases `partial` after submission. */
export function conv3dReducePartials(r: Recorder, dw: GPUBuffer, db: GPUBuffer | null, partial: GPUBuffer, splits: number, s: Conv3dShape): void {
  const k = s.kd * s.kh * s.kw * s.cin;
  const reduce = (out: GPUBuffer, base: number, n: number): void =>
    r.dispatch(CONV3D_BACKWARD_REDUCE, {
      params: { n, splits, stride: (k + 1) * s.cout, base },
      buffers: { partial, out },
      constants: { WG: REDUCE_WG },
      workgroups: grid1d(r.gpu, n, REDUCE_WG),
    });
  reduce(dw, 0, k * s.cout);
  if (db) reduce(db, k * s.cout, s.cout);
  r.releaseAfterSubmit(partial);
}

const REDUCE_WG = 256;
