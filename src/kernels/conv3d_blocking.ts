// How the conv3d kernels divide the work (src/kernels/conv3d.ts dispatches them):
// which set of shaders a device runs, their blockings, the override constants and
// workgroup grids that follow, and how backward_weight splits its reduction over
// positions. docs/PERFORMANCE.md has the measurements behind the choices.
import type { Gpu } from './gpu-core.js';
import { conv3dOutShape, type Conv3dShape } from './conv3d_shape.js';

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
export const SUBGROUP_CHANNELS = 32;

/** Options of the conv3d dispatchers: which kernels, and their blocking (tests use small blockings). */
export interface Conv3dOptions {
  kernel?: Conv3dKernel;
  direct?: Conv3dDirectTiles;
  subgroup?: Conv3dSubgroupTiles;
}

export function chooseKernel(gpu: Gpu, o: Conv3dOptions, shader: string): Conv3dKernel {
  const k = o.kernel ?? conv3dKernel(gpu);
  if (k === 'subgroup' && !gpu.features.shuffle8) throw new Error(`${shader}: the subgroup kernels need subgroups in aligned groups of 8 lanes, which this device lacks`);
  return k;
}

/**
 * Blocking of the direct forward and backward_input: WG invocations per workgroup,
 * each owning TP positions (WG apart, so one load instruction reads consecutive
 * positions across invocations) × TN output channels (the same for the whole
 * workgroup, so all invocations read the same weights). Each activation read feeds
 * TN multiply-adds, each weight read TP.
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

function checkWorkgroupSize(gpu: Gpu, wg: number, shader: string): void {
  if (wg > gpu.limits.maxComputeInvocationsPerWorkgroup || wg > gpu.limits.maxComputeWorkgroupSizeX) {
    throw new Error(`${shader}: ${wg} invocations exceed the device's workgroup limits`);
  }
}

/** Override constants of a subgroup blocking, validated against the shader's array sizes and the device limits. */
export function subgroupConstants(gpu: Gpu, t: Conv3dSubgroupTiles, shader: string): Record<string, number> {
  const ok = Number.isInteger(t.wg) && t.wg > 0 && t.wg % 8 === 0 && Number.isInteger(t.tp) && t.tp >= 1 && t.tp <= 4;
  if (!ok) throw new Error(`${shader}: invalid blocking ${JSON.stringify(t)}`);
  checkWorkgroupSize(gpu, t.wg, shader);
  return { WG: t.wg, TP: t.tp };
}

/** Override constants of a direct blocking, validated against the shader's array sizes and the device limits. */
export function directConstants(gpu: Gpu, t: Conv3dDirectTiles, shader: string): Record<string, number> {
  const ok = [t.wg, t.tp, t.tn].every((v) => Number.isInteger(v) && v > 0) && t.tn % 4 === 0 && t.tp <= 8 && t.tp * t.tn <= 64;
  if (!ok) throw new Error(`${shader}: invalid blocking ${JSON.stringify(t)}`);
  checkWorkgroupSize(gpu, t.wg, shader);
  return { WG: t.wg, TP: t.tp, TN: t.tn };
}

/** Workgroups (channel blocks, position blocks) with the position blocks folded into z past the per-dimension limit. */
export function directGrid(gpu: Gpu, rows: number, cols: number, t: Conv3dDirectTiles): [number, number, number] {
  const gy = Math.ceil(rows / (t.wg * t.tp));
  const z = Math.ceil(gy / gpu.limits.maxComputeWorkgroupsPerDimension);
  return [Math.ceil(cols / t.tn), Math.ceil(gy / z), z];
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
