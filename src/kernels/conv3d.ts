// conv3d (stride 1, `same` or `valid` padding). Reference: src/ref/conv3d.ts.
// Kernel families (docs/PERFORMANCE.md):
//   subgroup  conv3d_forward_subgroup, conv3d_backward_input_subgroup,
//             conv3d_backward_weight_subgroup: the operand a workgroup shares is loaded
//             once per 8 lanes and handed round with subgroup shuffles. The default where
//             the device has them (gpu.features.shuffle8).
//   direct    conv3d_forward, conv3d_backward_input, conv3d_backward_weight: every
//             invocation loads the shared operand itself. Portable; the default elsewhere.
//   rows      conv3d_forward_rows: forward, each loaded input row reused across positions;
//             the default on shuffle8 devices with one input channel (the first layer),
//             a `ser tune` candidate for narrow layers. conv3d_backward_weight_rows:
//             backward_weight with one input channel, walking rows of positions with a
//             sliding window of taps (any device).
//   tiled     conv3d_forward_tiled, conv3d_backward_input_tiled: workgroup-memory
//             implicit GEMMs for GPUs with wide subgroups; a `ser tune` candidate.
//   winograd  F(2×2, 3×3) or F(4×4, 3×3) for 1×3×3 kernels (conv3d_winograd.ts); a `ser tune` candidate.
// Both weight kernels write split partial sums that conv3d_backward_reduce adds up.
// Shapes live in conv3d_shape.ts, blockings in conv3d_blocking.ts, the Winograd path in
// conv3d_winograd.ts; conv3dPlan picks a dispatch's kernel; this module dispatches
// (and re-exports the others).
//
//   forward          Y[M, Cout]  = A_x[M, K] · W[K, Cout]               M = N·OD·OH·OW, K = kd·kh·kw·Cin
//   backward_input   dX[Mi, Cin] += A_dy[Mi, K'] · W^T[K', Cin]         Mi = N·D·H·W,  K' = kd·kh·kw·Cout
//   backward_weight  [dW; db][K+1, Cout] += A_x^T[K+1, M] · dY[M, Cout] (a ones row gives db), split over M
import { bindingRuns, grid1d, rowRange, type KernelSpec, type Recorder } from './kernel.js';
import type { Binding } from './binding.js';
import { conv3dOutShape, conv3dPads, conv3dSampleBytes as sampleBytes, conv3dTuneKey, type Conv3dPass, type Conv3dShape } from './conv3d_shape.js';
import type { Gpu } from './gpu-core.js';
import { conv3dWinograd, conv3dWinogradBackwardWeight, winogradApplies, WINOGRAD_DEFAULT_TILE, type WinogradGemm, type WinogradTile, type WinogradWeightGemm } from './conv3d_winograd.js';
import {
  CONV3D_DIRECT_TILES,
  CONV3D_WEIGHT_BLOCK,
  CONV3D_WEIGHT_SUBGROUP_BLOCK,
  chooseKernel,
  conv3dKernel,
  conv3dWeightSplits,
  directConstants,
  directGrid,
  subgroupConstants,
  subgroupTilesFor,
  subgroupChannelGroups,
  tiledConstants,
  rowsApplies,
  rowsByDefault,
  weightRowsApplies,
  weightRowsChunks,
  WEIGHT_ROWS_WG,
  rowsConstants,
  rowsTilesFor,
  tiledGrid,
  tiledTilesFor,
  type Conv3dSubgroupTiles,
  type Conv3dKernel,
  type Conv3dOptions,
} from './conv3d_blocking.js';

export * from './conv3d_shape.js';
export * from './conv3d_blocking.js';
export { CONV3D_WINOGRAD_INPUT, CONV3D_WINOGRAD_OUTPUT, CONV3D_WINOGRAD_WEIGHTS, winogradApplies } from './conv3d_winograd.js';

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
export const CONV3D_FORWARD_ROWS: KernelSpec = { ...CONV3D_FORWARD, shader: 'conv3d_forward_rows' };
export const CONV3D_FORWARD_TILED: KernelSpec = { ...CONV3D_FORWARD, shader: 'conv3d_forward_tiled' };
export const CONV3D_BACKWARD_INPUT_TILED: KernelSpec = { ...CONV3D_BACKWARD_INPUT, shader: 'conv3d_backward_input_tiled' };

export const CONV3D_BACKWARD_WEIGHT_SUBGROUP: KernelSpec = {
  shader: 'conv3d_backward_weight_subgroup',
  params: [...GEOMETRY, ['m', 'u32'], ['k', 'u32'], ['chunk', 'u32'], ['cblocks', 'u32'], ['rblocks', 'u32']],
  inputs: ['dy', 'x'],
  outputs: ['partial'],
};

export const CONV3D_BACKWARD_WEIGHT_ROWS: KernelSpec = {
  shader: 'conv3d_backward_weight_rows',
  params: [...GEOMETRY, ['m', 'u32'], ['k', 'u32'], ['rows', 'u32'], ['rows_per_chunk', 'u32'], ['chunks', 'u32'], ['cblocks', 'u32']],
  inputs: ['dy', 'x'],
  outputs: ['partial'],
};

export const CONV3D_FLIP_WEIGHTS: KernelSpec = {
  shader: 'conv3d_flip_weights',
  params: [['n', 'u32'], ['taps', 'u32'], ['cin', 'u32'], ['cout', 'u32']],
  inputs: ['w'],
  outputs: ['wt'],
};

export const CONV3D_BACKWARD_REDUCE: KernelSpec = {
  shader: 'conv3d_backward_reduce',
  params: [['n', 'u32'], ['splits', 'u32'], ['stride', 'u32'], ['base', 'u32']],
  inputs: ['partial'],
  outputs: ['out'],
};

/**
 * The options a dispatch runs with: those asked for, or, when none were, the kernel
 * and blocking `ser tune` measured fastest for this layer shape on this device
 * (gpu.conv3dTuning, src/kernels/conv3d_tune.ts), or the defaults.
 */
function tunedOptions(gpu: Gpu, direction: Conv3dPass, s: Conv3dShape, asked: Conv3dOptions): Conv3dOptions {
  if (asked.kernel || asked.subgroup || asked.direct || asked.tiled || asked.rows || asked.winograd) return asked;
  return gpu.conv3dTuning.get(conv3dTuneKey(direction, s)) ?? asked;
}

/**
 * The kernel and options a dispatch runs: those asked for; when none were, the kernel
 * and blocking `ser tune` measured fastest for this layer; else the device's default,
 * which for a forward with one input channel is the rows kernel. A kernel that cannot
 * run the shape or direction (Winograd off 1×3×3 kernels or channels in fours, rows
 * past a 7-wide kernel, tiled or rows for backward_weight) falls back to the device's
 * default.
 */
export function conv3dPlan(gpu: Gpu, direction: Conv3dPass, s: Conv3dShape, asked: Conv3dOptions = {}): { kernel: Conv3dKernel; options: Conv3dOptions } {
  if (direction === 'backward_weight') {
    const o = tunedOptions(gpu, direction, s, asked);
    const rows = weightRowsApplies(s);
    let kernel =
      rows && !(o.kernel || o.subgroup || o.direct || o.tiled)
        ? 'rows'
        : chooseKernel(gpu, o, CONV3D_BACKWARD_WEIGHT.shader, rows ? ['subgroup', 'direct', 'rows', 'winograd'] : ['subgroup', 'direct', 'winograd']);
    if (kernel === 'winograd' && !winogradApplies(gpu, s, 'forward', o.winograd?.tile)) kernel = conv3dKernel(gpu);
    return { kernel, options: o };
  }
  const o = tunedOptions(gpu, direction, s, asked);
  const forward = direction === 'forward';
  // Rows runs backward_input as a forward of dy with the flipped kernel (conv3dBackwardInput).
  const rows = rowsApplies(gpu, s);
  const shader = forward ? CONV3D_FORWARD.shader : CONV3D_BACKWARD_INPUT.shader;
  let kernel: Conv3dKernel =
    forward && rowsByDefault(gpu, s) && !(o.kernel || o.subgroup || o.direct || o.tiled) ? 'rows' : chooseKernel(gpu, o, shader, rows ? ['subgroup', 'direct', 'tiled', 'rows', 'winograd'] : ['subgroup', 'direct', 'tiled', 'winograd']);
  if (kernel === 'winograd' && !winogradApplies(gpu, s, direction, o.winograd?.tile)) kernel = conv3dKernel(gpu);
  return { kernel, options: o };
}

/** The kernel set a dispatch asking for no kernel runs (conv3dPlan's choice; the benchmark names it). */
export function conv3dKernelFor(gpu: Gpu, direction: Conv3dPass, s: Conv3dShape): Conv3dKernel {
  return conv3dPlan(gpu, direction, s).kernel;
}

/** The subgroup blocking asked for, its channel groups defaulting to the layer's (`channels`: the block's channel count). */
function subgroupBlocking(o: Conv3dOptions, channels: number): Conv3dSubgroupTiles {
  const t = o.subgroup ?? subgroupTilesFor(channels);
  return { ...t, cv: t.cv ?? subgroupChannelGroups(channels) };
}

function geometry(s: Conv3dShape) {
  const [, od, oh, ow] = conv3dOutShape(s);
  const [pd, ph, pw] = conv3dPads(s);
  return { n: s.n, d: s.d, h: s.h, w: s.w, cin: s.cin, od, oh, ow, cout: s.cout, kd: s.kd, kh: s.kh, kw: s.kw, pd, ph, pw };
}

/** The shaders bind x, w and dy as vec4 arrays (slices are bound to a 16-byte boundary, see kernel.ts bindingRange). */
function checkVec4(shader: string, bufs: Record<string, GPUBuffer>): void {
  for (const [name, b] of Object.entries(bufs)) {
    if (b.size % 16 !== 0) throw new Error(`${shader}: buffer ${name} must be sized to a multiple of 16 bytes (got ${b.size})`);
  }
}

/**
 * What a training forward keeps for backward_weight of the same step (conv3dForward's
 * `keep`): where forward and backward_weight both run Winograd with the same tile they
 * transform the same x into the same V, so the forward's V is kept and backward_weight
 * skips its input transform.
 */
export interface Conv3dKeep {
  /** A buffer of at least `bytes` that outlives backward_weight and that the caller frees (the autograd op's step-lifetime scratch). */
  alloc: (bytes: number) => GPUBuffer;
  /** The options backward_weight will be called with (default: none, the tuned or default choice). */
  weights?: Conv3dOptions;
}

/** The forward's Winograd-transformed input and its tile, for conv3dBackwardWeight's `kept`. */
export interface Conv3dKept {
  v: GPUBuffer;
  tile: WinogradTile;
}

/**
 * y = conv3d(x, w) + b (overwrites y). Samples are independent, so a batch whose
 * activations exceed one storage binding runs as several dispatches over slices.
 * With `keep`, returns what backward_weight can reuse (Conv3dKeep), else null.
 */
export function conv3dForward(r: Recorder, y: GPUBuffer, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, s: Conv3dShape, asked: Conv3dOptions = {}, keep?: Conv3dKeep): Conv3dKept | null {
  const { kernel, options: o } = conv3dPlan(r.gpu, 'forward', s, asked);
  checkVec4(CONV3D_FORWARD.shader, { x, w, y });
  if (kernel === 'winograd') {
    const tile = o.winograd?.tile ?? WINOGRAD_DEFAULT_TILE;
    const weights = keep ? conv3dPlan(r.gpu, 'backward_weight', s, keep.weights) : null;
    const reuse = weights?.kernel === 'winograd' && (weights.options.winograd?.tile ?? WINOGRAD_DEFAULT_TILE) === tile;
    const v = conv3dWinograd(r, 'forward', y, x, w, b, s, winogradGemm, tile, { keep: reuse ? keep!.alloc : undefined });
    return v ? { v, tile } : null;
  }
  const bytes = sampleBytes(s);
  for (const run of bindingRuns(r.gpu, s.n, [bytes.x, bytes.y])) {
    // Without a bias the binding still needs a buffer; w is read-only here too, so it can alias.
    forwardRun(r, kernel, o, { ...s, n: run.count }, { x: rowRange(x, run, bytes.x), w, b: b ?? w, y: rowRange(y, run, bytes.y) }, b !== null);
  }
  return null;
}

/** The params fields every conv3d shader starts with. */
type Geometry = ReturnType<typeof geometry>;

/**
 * conv3d_forward_rows over geometry `g`: a forward layer's, or backward_input's as a
 * forward (conv3dBackwardInput), whose input is dy and whose pads are k − 1 − p.
 */
function rowsForward(r: Recorder, g: Geometry, o: Conv3dOptions, buffers: Record<'x' | 'w' | 'b' | 'y', Binding>, hasBias: boolean): void {
  const t = o.rows ?? rowsTilesFor(g.cout, g.ow);
  const cv = t.cv ?? subgroupChannelGroups(g.cout);
  const blocks = Math.ceil(g.ow / t.tw);
  r.dispatch(CONV3D_FORWARD_ROWS, {
    params: { ...g, m: g.n * g.od * g.oh * g.ow, k: g.kd * g.kh * g.kw * g.cin, has_bias: hasBias ? 1 : 0 },
    buffers,
    constants: { ...rowsConstants(r.gpu, { ...t, cv }, g.kw, CONV3D_FORWARD_ROWS.shader), VEC_A: g.cin % 4 === 0 ? 1 : 0, VEC_B: g.cout % 4 === 0 ? 1 : 0 },
    workgroups: directGrid(r.gpu, g.n * g.od * g.oh * blocks, g.cout, { wg: t.wg, tp: 1, tn: 4 * cv }),
  });
}

/** One forward dispatch over bindings that hold shape `s` whole (a run of samples, or one GEMM of the Winograd path). */
function forwardRun(r: Recorder, kernel: Conv3dKernel, o: Conv3dOptions, s: Conv3dShape, buffers: Record<'x' | 'w' | 'b' | 'y', Binding>, hasBias: boolean): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const m = s.n * od * oh * ow;
  const vec = { VEC_A: s.cin % 4 === 0 ? 1 : 0, VEC_B: s.cout % 4 === 0 ? 1 : 0 };
  const common = { params: { ...geometry(s), m, k: s.kd * s.kh * s.kw * s.cin, has_bias: hasBias ? 1 : 0 }, buffers };
  if (kernel === 'rows') {
    rowsForward(r, geometry(s), o, buffers, hasBias);
  } else if (kernel === 'tiled') {
    const t = o.tiled ?? tiledTilesFor(m, s.cout);
    r.dispatch(CONV3D_FORWARD_TILED, {
      ...common,
      constants: { ...tiledConstants(r.gpu, t, CONV3D_FORWARD_TILED.shader), ...vec },
      workgroups: tiledGrid(r.gpu, m, s.cout, t),
    });
  } else if (kernel === 'subgroup') {
    const t = subgroupBlocking(o, s.cout);
    r.dispatch(CONV3D_FORWARD_SUBGROUP, {
      ...common,
      constants: { ...subgroupConstants(r.gpu, t, CONV3D_FORWARD_SUBGROUP.shader), ...vec, POINTWISE: pointwise(s) ? 1 : 0 },
      workgroups: directGrid(r.gpu, m, s.cout, { wg: t.wg, tp: t.tp, tn: 4 * t.cv! }),
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

/** A 1×1×1 kernel without padding: each output position reads the input position of the same index. */
function pointwise(s: Conv3dShape): boolean {
  return s.kd === 1 && s.kh === 1 && s.kw === 1 && conv3dPads(s).every((p) => p === 0);
}

/** One of the Winograd path's GEMMs (16 or 36): a 1×1×1 forward on the device's default kernel. */
const winogradGemm: WinogradGemm = (r, s, buffers) => forwardRun(r, conv3dKernel(r.gpu), {}, s, { ...buffers, b: buffers.w }, false);

/**
 * dx += d(loss)/dx given dy (the forward convolution of dy with the flipped, transposed
 * kernel); with `accumulate` false, dx = it (every kernel fills dx whole).
 */
export function conv3dBackwardInput(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, w: GPUBuffer, s: Conv3dShape, asked: Conv3dOptions = {}, accumulate = true): void {
  const { kernel, options: o } = conv3dPlan(r.gpu, 'backward_input', s, asked);
  const k = s.kd * s.kh * s.kw * s.cout;
  checkVec4(CONV3D_BACKWARD_INPUT.shader, { dy, w, dx });
  if (kernel === 'winograd') {
    conv3dWinograd(r, 'backward_input', dx, dy, w, null, s, winogradGemm, o.winograd?.tile, { accumulate });
    return;
  }
  const bytes = sampleBytes(s);
  // The rows kernel overwrites; added into dx the device's default runs.
  if (kernel === 'rows' && !accumulate) {
    // dx is the forward convolution of dy with the kernel flipped in every spatial axis,
    // its channels swapped, and pads k − 1 − p (stride 1).
    const taps = s.kd * s.kh * s.kw;
    const n = taps * s.cin * s.cout;
    const wt = r.acquire(n * 4, 'conv3d flipped weights');
    r.dispatch(CONV3D_FLIP_WEIGHTS, { params: { n, taps, cin: s.cin, cout: s.cout }, buffers: { w, wt }, constants: { WG: 256 }, workgroups: grid1d(r.gpu, n, 256) });
    const [, od, oh, ow] = conv3dOutShape(s);
    const [pd, ph, pw] = conv3dPads(s);
    for (const run of bindingRuns(r.gpu, s.n, [bytes.x, bytes.y])) {
      const g: Geometry = { n: run.count, d: od, h: oh, w: ow, cin: s.cout, od: s.d, oh: s.h, ow: s.w, cout: s.cin, kd: s.kd, kh: s.kh, kw: s.kw, pd: s.kd - 1 - pd, ph: s.kh - 1 - ph, pw: s.kw - 1 - pw };
      rowsForward(r, g, o, { x: rowRange(dy, run, bytes.y), w: wt, b: wt, y: rowRange(dx, run, bytes.x) }, false);
    }
    r.release(wt);
    return;
  }
  const passKernel = kernel === 'rows' ? conv3dKernel(r.gpu) : kernel;
  const flags = { VEC: s.cout % 4 === 0 ? 1 : 0, VEC_X: s.cin % 4 === 0 ? 1 : 0, ACCUMULATE: accumulate ? 1 : 0 };
  for (const run of bindingRuns(r.gpu, s.n, [bytes.x, bytes.y])) {
    const m = run.count * s.d * s.h * s.w;
    const common = {
      params: { ...geometry({ ...s, n: run.count }), m, k },
      buffers: { dy: rowRange(dy, run, bytes.y), w, dx: rowRange(dx, run, bytes.x) },
    };
    if (passKernel === 'tiled') {
      const t = o.tiled ?? tiledTilesFor(m, s.cin);
      r.dispatch(CONV3D_BACKWARD_INPUT_TILED, {
        ...common,
        constants: { ...tiledConstants(r.gpu, t, CONV3D_BACKWARD_INPUT_TILED.shader), ...flags },
        workgroups: tiledGrid(r.gpu, m, s.cin, t),
      });
    } else if (passKernel === 'subgroup') {
      const t = subgroupBlocking(o, s.cin);
      r.dispatch(CONV3D_BACKWARD_INPUT_SUBGROUP, {
        ...common,
        constants: { ...subgroupConstants(r.gpu, t, CONV3D_BACKWARD_INPUT_SUBGROUP.shader), ...flags },
        workgroups: directGrid(r.gpu, m, s.cin, { wg: t.wg, tp: t.tp, tn: 4 * t.cv! }),
      });
    } else {
      const t = o.direct ?? CONV3D_DIRECT_TILES;
      r.dispatch(CONV3D_BACKWARD_INPUT, {
        ...common,
        constants: { ...directConstants(r.gpu, t, CONV3D_BACKWARD_INPUT.shader), ...flags },
        workgroups: directGrid(r.gpu, m, s.cin, t),
      });
    }
  }
}

/**
 * dw += d(loss)/dw and, unless db is null, db += d(loss)/db, given dy and the
 * forward input x. Sliced batches (see conv3dForward) add their sums in turn.
 * `kept`: what conv3dForward of the same x returned; Winograd with the same tile
 * then reuses its transformed input.
 */
export function conv3dBackwardWeight(r: Recorder, dw: GPUBuffer, db: GPUBuffer | null, dy: GPUBuffer, x: GPUBuffer, s: Conv3dShape, asked: Conv3dOptions = {}, kept: Conv3dKept | null = null): void {
  const { kernel, options: o } = conv3dPlan(r.gpu, 'backward_weight', s, asked);
  checkVec4(CONV3D_BACKWARD_WEIGHT.shader, { dy, x });
  if (kernel === 'winograd') {
    const tile = o.winograd?.tile ?? WINOGRAD_DEFAULT_TILE;
    return conv3dWinogradBackwardWeight(r, dw, db, dy, x, s, winogradWeightGemm, tile, kept?.tile === tile ? kept.v : undefined);
  }
  const bytes = sampleBytes(s);
  for (const run of bindingRuns(r.gpu, s.n, [bytes.x, bytes.y])) {
    backwardWeightRun(r, kernel, { ...s, n: run.count }, { dy: rowRange(dy, run, bytes.y), x: rowRange(x, run, bytes.x) }, dw, db);
  }
}

/** One backward_weight over bindings that hold shape `s` whole (a run of samples, or one GEMM of the Winograd path): partials, then their sums added into dw and db. */
function backwardWeightRun(r: Recorder, kernel: Conv3dKernel, s: Conv3dShape, buffers: Record<'dy' | 'x', Binding>, dw: Binding, db: Binding | null): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const k = s.kd * s.kh * s.kw * s.cin;
  const rows = k + 1;
  const m = s.n * od * oh * ow;
  const vec = { VEC_A: s.cin % 4 === 0 ? 1 : 0, VEC_B: s.cout % 4 === 0 ? 1 : 0 };
  const maxPerDim = r.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (kernel === 'rows') {
    const outRows = s.n * od * oh;
    const cblocks = Math.ceil(s.cout / 4);
    const { rowsPerChunk, chunks } = weightRowsChunks(outRows, cblocks);
    const partial = r.acquire(chunks * rows * s.cout * 4, 'conv3d partials');
    r.dispatch(CONV3D_BACKWARD_WEIGHT_ROWS, {
      params: { ...geometry(s), m, k, rows: outRows, rows_per_chunk: rowsPerChunk, chunks, cblocks },
      buffers: { ...buffers, partial },
      constants: { WG: WEIGHT_ROWS_WG, KD: s.kd, KH: s.kh, KW: s.kw, VEC_B: vec.VEC_B },
      workgroups: grid1d(r.gpu, chunks * cblocks, WEIGHT_ROWS_WG),
    });
    conv3dReducePartials(r, dw, db, partial, chunks, s);
  } else if (kernel === 'subgroup') {
    const { tile, positions } = CONV3D_WEIGHT_SUBGROUP_BLOCK;
    // 8 or 16 output channels: tiles of 8 or 16 channels (CV 2 or 4) instead of 32.
    const cv = subgroupChannelGroups(s.cout);
    const { splits, tilesPerSplit } = conv3dWeightSplits(s, maxPerDim, { rows: tile, cols: 4 * cv, positions });
    const [cblocks, rblocks] = [Math.ceil(s.cout / (4 * cv)), Math.ceil(rows / tile)];
    // Four groups of 8 lanes per workgroup where the tiles fill them; otherwise one, since a
    // spare group costs a live one's time (5 tiles in groups of 4 ran 1.5× slower).
    const groups = (cblocks * rblocks) % 4 === 0 ? 4 : 1;
    const partial = r.acquire(splits * rows * s.cout * 4, 'conv3d partials');
    r.dispatch(CONV3D_BACKWARD_WEIGHT_SUBGROUP, {
      params: { ...geometry(s), m, k, chunk: tilesPerSplit * positions, cblocks, rblocks },
      buffers: { ...buffers, partial },
      constants: { GROUPS: groups, CV: cv, ...vec },
      workgroups: [Math.ceil((cblocks * rblocks) / groups), splits],
    });
    conv3dReducePartials(r, dw, db, partial, splits, s);
  } else {
    const { wg, tk, pt } = CONV3D_WEIGHT_BLOCK;
    const { splits, tilesPerSplit } = conv3dWeightSplits(s, maxPerDim);
    const partial = r.acquire(splits * rows * s.cout * 4, 'conv3d partials');
    r.dispatch(CONV3D_BACKWARD_WEIGHT, {
      params: { ...geometry(s), m, k, tiles_per_split: tilesPerSplit },
      buffers: { ...buffers, partial },
      constants: { WG: wg, TK: tk, PT: pt, ...vec },
      workgroups: [Math.ceil(s.cout / (4 * wg)), Math.ceil(rows / tk), splits],
    });
    conv3dReducePartials(r, dw, db, partial, splits, s);
  }
}

/** One of the Winograd backward_weight's GEMMs (16 or 36): a 1×1×1 backward_weight on the device's default kernel. */
const winogradWeightGemm: WinogradWeightGemm = (r, s, b) => backwardWeightRun(r, conv3dKernel(r.gpu), s, { dy: b.dy, x: b.x }, b.dw, b.db);

/** dw += and db += the sums of backward_weight's partials [splits, K+1, Cout]; gives `partial` back for the recording's later temporaries (Recorder.release). */
export function conv3dReducePartials(r: Recorder, dw: Binding, db: Binding | null, partial: GPUBuffer, splits: number, s: Conv3dShape): void {
  const k = s.kd * s.kh * s.kw * s.cin;
  const reduce = (out: Binding, base: number, n: number): void =>
    r.dispatch(CONV3D_BACKWARD_REDUCE, {
      params: { n, splits, stride: (k + 1) * s.cout, base },
      buffers: { partial, out },
      constants: { WG: REDUCE_WG },
      workgroups: grid1d(r.gpu, n, REDUCE_WG),
    });
  reduce(dw, 0, k * s.cout);
  if (db) reduce(db, k * s.cout, s.cout);
  r.release(partial);
}

const REDUCE_WG = 256;
