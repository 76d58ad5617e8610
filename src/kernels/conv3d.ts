// conv3d (stride 1, `same` or `valid` padding). Reference: src/ref/conv3d.ts.
// Two sets of shaders, both without workgroup memory or barriers (docs/PERFORMANCE.md):
//   subgroup  conv3d_forward_subgroup, conv3d_backward_input_subgroup,
//             conv3d_backward_weight_subgroup: the operand a workgroup shares is loaded
//             once per 8 lanes and handed round with subgroup shuffles. Used where the
//             device has them (gpu.features.shuffle8).
//   direct    conv3d_forward, conv3d_backward_input, conv3d_backward_weight: every
//             invocation loads the shared operand itself. Portable; used elsewhere.
// Both weight kernels write split partial sums that conv3d_backward_reduce adds up.
// Shapes live in conv3d_shape.ts, blockings and the choice of kernels in
// conv3d_blocking.ts; this module dispatches (and re-exports both).
//
//   forward          Y[M, Cout]  = A_x[M, K] · W[K, Cout]               M = N·OD·OH·OW, K = kd·kh·kw·Cin
//   backward_input   dX[Mi, Cin] += A_dy[Mi, K'] · W^T[K', Cin]         Mi = N·D·H·W,  K' = kd·kh·kw·Cout
//   backward_weight  [dW; db][K+1, Cout] += A_x^T[K+1, M] · dY[M, Cout] (a ones row gives db), split over M
import { bindingRuns, grid1d, rowRange, type KernelSpec, type Recorder } from './kernel.js';
import type { Binding } from './binding.js';
import { conv3dOutShape, conv3dPads, conv3dTuneKey, type Conv3dDirection, type Conv3dShape } from './conv3d_shape.js';
import type { Gpu } from './gpu-core.js';
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
export const CONV3D_WINOGRAD_OUTPUT: KernelSpec = {
  shader: 'conv3d_winograd_output',
  params: ['oh', 'ow', 'c', 'th', 'tw', 't', 't_pad', 'has_bias'].map((f) => [f, 'u32'] as const),
  inputs: ['m', 'bias'],
  outputs: ['y'],
};

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

/**
 * The options a dispatch runs with: those asked for, or, when none were, the kernel
 * and blocking `ser tune` measured fastest for this layer shape on this device
 * (gpu.conv3dTuning, src/kernels/conv3d_tune.ts), or the defaults.
 */
function tunedOptions(gpu: Gpu, direction: Conv3dDirection, s: Conv3dShape, asked: Conv3dOptions): Conv3dOptions {
  if (asked.kernel || asked.subgroup || asked.direct || asked.tiled || asked.rows) return asked;
  return gpu.conv3dTuning.get(conv3dTuneKey(direction, s)) ?? asked;
}

/** The kernel set a dispatch asking for no kernel runs: the tuned choice, else the default (rows for one input channel's forward). */
export function conv3dKernelFor(gpu: Gpu, direction: Conv3dDirection | 'backward_weight', s: Conv3dShape): Conv3dKernel {
  if (direction !== 'backward_weight') {
    const tuned = gpu.conv3dTuning.get(conv3dTuneKey(direction, s))?.kernel;
    if (tuned) return tuned;
    if (direction === 'forward' && rowsApplies(gpu, s)) return 'rows';
  }
  return conv3dKernel(gpu);
}

/** The subgroup blocking asked for, its channel groups defaulting to the layer's (`channels`: the block's channel count). */
function subgroupBlocking(o: Conv3dOptions, channels: number): Conv3dSubgroupTiles {
  const t = o.subgroup ?? subgroupTilesFor(channels);
  return { ...t, cv: t.cv ?? subgroupChannelGroups(channels) };
}

function geometry(s: Conv3dShape): Record<string, number> {
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

/** Bytes of one sample's input and output activations. */
function sampleBytes(s: Conv3dShape): { x: number; y: number } {
  const [, od, oh, ow] = conv3dOutShape(s);
  return { x: s.d * s.h * s.w * s.cin * 4, y: od * oh * ow * s.cout * 4 };
}

/**
 * y = conv3d(x, w) + b (overwrites y). Samples are independent, so a batch whose
 * activations exceed one storage binding runs as several dispatches over slices.
 */
export function conv3dForward(r: Recorder, y: GPUBuffer, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, s: Conv3dShape, asked: Conv3dOptions = {}): void {
  const o = tunedOptions(r.gpu, 'forward', s, asked);
  // One input channel runs the rows kernel unless another kernel or blocking is asked for.
  const rows = rowsApplies(r.gpu, s);
  let kernel = rows && !(o.kernel || o.subgroup || o.direct || o.tiled) ? 'rows' : chooseKernel(r.gpu, o, CONV3D_FORWARD.shader, rows ? ['subgroup', 'direct', 'tiled', 'rows', 'winograd'] : ['subgroup', 'direct', 'tiled', 'winograd']);
  checkVec4(CONV3D_FORWARD.shader, { x, w });
  if (kernel === 'winograd') {
    if (winogradApplies(r.gpu, s, 'forward')) return conv3dWinograd(r, 'forward', y, x, w, b, s);
    kernel = conv3dKernel(r.gpu);
  }
  const bytes = sampleBytes(s);
  for (const run of bindingRuns(r.gpu, s.n, [bytes.x, bytes.y])) {
    // Without a bias the binding still needs a buffer; w is read-only here too, so it can alias.
    forwardRun(r, kernel, o, { ...s, n: run.count }, { x: rowRange(x, run, bytes.x), w, b: b ?? w, y: rowRange(y, run, bytes.y) }, b !== null);
  }
}

/** One forward dispatch over bindings that hold shape `s` whole (a run of samples, or one GEMM of the Winograd path). */
function forwardRun(r: Recorder, kernel: Conv3dKernel, o: Conv3dOptions, s: Conv3dShape, buffers: Record<'x' | 'w' | 'b' | 'y', Binding>, hasBias: boolean): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const m = s.n * od * oh * ow;
  const vec = { VEC_A: s.cin % 4 === 0 ? 1 : 0, VEC_B: s.cout % 4 === 0 ? 1 : 0 };
  const common = { params: { ...geometry(s), m, k: s.kd * s.kh * s.kw * s.cin, has_bias: hasBias ? 1 : 0 }, buffers };
  if (kernel === 'rows') {
    const t = o.rows ?? rowsTilesFor(s.cout);
    const cv = t.cv ?? subgroupChannelGroups(s.cout);
    const blocks = Math.ceil(ow / t.tw);
    r.dispatch(CONV3D_FORWARD_ROWS, {
      ...common,
      constants: { ...rowsConstants(r.gpu, { ...t, cv }, s.kw, CONV3D_FORWARD_ROWS.shader), ...vec },
      workgroups: directGrid(r.gpu, s.n * od * oh * blocks, s.cout, { wg: t.wg, tp: 1, tn: 4 * cv }),
    });
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
      constants: { ...subgroupConstants(r.gpu, t, CONV3D_FORWARD_SUBGROUP.shader), ...vec },
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

/** Tiles of a Winograd F(2×2, 3×3) convolution whose output is [N, D, OH, OW, C]: T, padded to whole 64s so every ξ slice is bindable. */
function winogradTiles(n: number, d: number, oh: number, ow: number): { th: number; tw: number; t: number; tPad: number } {
  const th = Math.ceil(oh / 2);
  const tw = Math.ceil(ow / 2);
  const t = n * d * th * tw;
  return { th, tw, t, tPad: Math.ceil(t / 64) * 64 };
}

/**
 * Whether the Winograd path can run shape `s` in `direction`: a 1×3×3 kernel, channel
 * counts that are multiples of 4, and its transformed tensors ([16, T, C], 4× the
 * activations) within one storage binding.
 */
export function winogradApplies(gpu: Gpu, s: Conv3dShape, direction: Conv3dDirection): boolean {
  if (s.kd !== 1 || s.kh !== 3 || s.kw !== 3 || s.cin % 4 !== 0 || s.cout % 4 !== 0) return false;
  const [, od, oh, ow] = direction === 'forward' ? conv3dOutShape(s) : [s.n, s.d, s.h, s.w];
  const { tPad } = winogradTiles(s.n, od, oh, ow);
  const bytes = sampleBytes(s);
  const limit = Math.min(gpu.maxBindingBytes, gpu.limits.maxBufferSize);
  return 16 * tPad * Math.max(s.cin, s.cout) * 4 <= limit && s.n * Math.max(bytes.x, bytes.y) <= gpu.maxBindingBytes;
}

/**
 * conv3d of a 1×3×3 kernel by Winograd F(2×2, 3×3): kernel transform U = G g Gᵀ,
 * input transform V = Bᵀ d B of every 4×4 patch of a 2×2 output tile, 16 GEMMs
 * M_ξ = V_ξ · U_ξ (the device's 1×1×1 forward kernel over [T, C] matrices), output
 * transform Aᵀ M A: 16 multiply-adds per tile and channel pair where direct
 * convolution spends 36. Forward: y = conv(x, w) + b. backward_input: dx += the
 * convolution of dy with the flipped, transposed kernel (pads 2 − p). Winograd
 * reassociates the sums, so results differ from the direct kernels' by float32
 * rounding of the transforms (test/conv3d.test.ts).
 */
function conv3dWinograd(r: Recorder, direction: Conv3dDirection, out: GPUBuffer, a: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, s: Conv3dShape): void {
  const forward = direction === 'forward';
  const [, od, oh, ow] = conv3dOutShape(s);
  const [, ph, pw] = conv3dPads(s);
  // The tensor transformed (x, or dy), its channels, and the output's dims and channels.
  const src = forward ? { d: s.d, h: s.h, w: s.w, c: s.cin } : { d: od, h: oh, w: ow, c: s.cout };
  const dst = forward ? { d: od, h: oh, w: ow, c: s.cout } : { d: s.d, h: s.h, w: s.w, c: s.cin };
  const pads = forward ? [ph, pw] : [s.kh - 1 - ph, s.kw - 1 - pw];
  const { th, tw, t, tPad } = winogradTiles(s.n, dst.d, dst.h, dst.w);
  const uStride = Math.ceil((s.cin * s.cout) / 64) * 64;
  const u = r.pool.acquire(16 * uStride * 4, 'winograd kernel');
  const v = r.pool.acquire(16 * tPad * src.c * 4, 'winograd input');
  const m = r.pool.acquire(16 * tPad * dst.c * 4, 'winograd products');
  r.dispatch(CONV3D_WINOGRAD_WEIGHTS, {
    params: { cin: s.cin, cout: s.cout, stride: uStride },
    buffers: { w, u },
    constants: { WG: WINOGRAD_WG, FLIP: forward ? 0 : 1 },
    workgroups: grid1d(r.gpu, s.cin * s.cout, WINOGRAD_WG),
  });
  r.dispatch(CONV3D_WINOGRAD_INPUT, {
    params: { n: s.n, d: src.d, h: src.h, w: src.w, c: src.c, th, tw, ph: pads[0]!, pw: pads[1]!, t, t_pad: tPad },
    buffers: { a, v },
    constants: { WG: WINOGRAD_WG },
    workgroups: grid1d(r.gpu, (tPad * src.c) / 4, WINOGRAD_WG),
  });
  const gemm: Conv3dShape = { n: 1, d: 1, h: 1, w: tPad, cin: src.c, cout: dst.c, kd: 1, kh: 1, kw: 1, padding: 'same' };
  const kernel = conv3dKernel(r.gpu);
  for (let xi = 0; xi < 16; xi++) {
    forwardRun(r, kernel, {}, gemm, {
      x: { buffer: v, offset: xi * tPad * src.c * 4, size: tPad * src.c * 4 },
      w: { buffer: u, offset: xi * uStride * 4, size: s.cin * s.cout * 4 },
      b: u,
      y: { buffer: m, offset: xi * tPad * dst.c * 4, size: tPad * dst.c * 4 },
    }, false);
  }
  r.dispatch(CONV3D_WINOGRAD_OUTPUT, {
    params: { oh: dst.h, ow: dst.w, c: dst.c, th, tw, t, t_pad: tPad, has_bias: b ? 1 : 0 },
    buffers: { m, bias: b ?? u, y: out },
    constants: { WG: WINOGRAD_WG, ACCUMULATE: forward ? 0 : 1 },
    workgroups: grid1d(r.gpu, (t * dst.c) / 4, WINOGRAD_WG),
  });
  for (const buf of [u, v, m]) r.releaseAfterSubmit(buf);
}

const WINOGRAD_WG = 64;

/** dx += d(loss)/dx given dy (the forward convolution of dy with the flipped, transposed kernel). */
export function conv3dBackwardInput(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, w: GPUBuffer, s: Conv3dShape, asked: Conv3dOptions = {}): void {
  const o = tunedOptions(r.gpu, 'backward_input', s, asked);
  const k = s.kd * s.kh * s.kw * s.cout;
  let kernel = chooseKernel(r.gpu, o, CONV3D_BACKWARD_INPUT.shader, ['subgroup', 'direct', 'tiled', 'winograd']);
  checkVec4(CONV3D_BACKWARD_INPUT.shader, { dy, w });
  if (kernel === 'winograd') {
    if (winogradApplies(r.gpu, s, 'backward_input')) return conv3dWinograd(r, 'backward_input', dx, dy, w, null, s);
    kernel = conv3dKernel(r.gpu);
  }
  const bytes = sampleBytes(s);
  for (const run of bindingRuns(r.gpu, s.n, [bytes.x, bytes.y])) {
    const m = run.count * s.d * s.h * s.w;
    const common = {
      params: { ...geometry({ ...s, n: run.count }), m, k },
      buffers: { dy: rowRange(dy, run, bytes.y), w, dx: rowRange(dx, run, bytes.x) },
    };
    if (kernel === 'tiled') {
      const t = o.tiled ?? tiledTilesFor(m, s.cin);
      r.dispatch(CONV3D_BACKWARD_INPUT_TILED, {
        ...common,
        constants: { ...tiledConstants(r.gpu, t, CONV3D_BACKWARD_INPUT_TILED.shader), VEC: s.cout % 4 === 0 ? 1 : 0 },
        workgroups: tiledGrid(r.gpu, m, s.cin, t),
      });
    } else if (kernel === 'subgroup') {
      const t = subgroupBlocking(o, s.cin);
      r.dispatch(CONV3D_BACKWARD_INPUT_SUBGROUP, {
        ...common,
        constants: { ...subgroupConstants(r.gpu, t, CONV3D_BACKWARD_INPUT_SUBGROUP.shader), VEC: s.cout % 4 === 0 ? 1 : 0 },
        workgroups: directGrid(r.gpu, m, s.cin, { wg: t.wg, tp: t.tp, tn: 4 * t.cv! }),
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
      // 8 or 16 output channels: tiles of 8 or 16 channels (CV 2 or 4) instead of 32.
      const cv = subgroupChannelGroups(s.cout);
      const { splits, tilesPerSplit } = conv3dWeightSplits(sliced, maxPerDim, { rows: tile, cols: 4 * cv, positions });
      const [cblocks, rblocks] = [Math.ceil(s.cout / (4 * cv)), Math.ceil(rows / tile)];
      // Four groups of 8 lanes per workgroup, unless there are fewer tiles than that.
      const groups = cblocks * rblocks >= 4 ? 4 : 1;
      const partial = r.pool.acquire(splits * rows * s.cout * 4, 'conv3d partials');
      r.dispatch(CONV3D_BACKWARD_WEIGHT_SUBGROUP, {
        params: { ...geometry(sliced), m, k, chunk: tilesPerSplit * positions, cblocks, rblocks },
        buffers: { ...buffers, partial },
        constants: { GROUPS: groups, CV: cv, ...vec },
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
