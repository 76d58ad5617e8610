// How the conv3d kernels divide the work (src/kernels/conv3d.ts dispatches them):
// which set of shaders a device runs, their blockings, the override constants and
// workgroup grids that follow, and how backward_weight splits its reduction over
// positions. docs/PERFORMANCE.md has the measurements behind the choices.
import type { Gpu } from './gpu-core.js';
import { conv3dOutShape, type Conv3dShape } from './conv3d_shape.js';
import type { WinogradTile } from './conv3d_winograd.js';

/**
 * Which set of shaders runs: see the header. `tiled` (forward and backward_input
 * only) is a candidate of `ser tune` for wide-subgroup GPUs; `rows` (forward, 8-lane
 * subgroups; the default with one input channel, a `ser tune` candidate otherwise)
 * reuses each loaded tap across a row of positions;
 * `winograd` (all three passes of 1×3×3 kernels) transforms 2×2 or 4×4 output tiles
 * (`winograd.tile`) and runs 16 or 36 GEMMs on the device's default kernels.
 * A direction asked for a kernel it lacks runs the device's default.
 */
export type Conv3dKernel = 'subgroup' | 'direct' | 'tiled' | 'rows' | 'winograd';

/** The kernels this device runs by default. */
export function conv3dKernel(gpu: Gpu): Conv3dKernel {
  return gpu.features.shuffle8 ? 'subgroup' : 'direct';
}

/**
 * Blocking of the subgroup forward and backward_input: WG invocations per workgroup
 * (a multiple of 8), each owning TP positions (WG apart) × 4·CV channels (CV vec4
 * groups: 8, 4 or 2; the workgroup's channel block). Without CV the dispatcher takes
 * subgroupChannelGroups of the layer's channel count.
 */
export interface Conv3dSubgroupTiles {
  wg: number;
  tp: number;
  cv?: number;
}

/**
 * 3 positions per invocation × 32 channels (96 accumulators) measured fastest on
 * lavapipe for the report's layers 2–5 (5–10 % ahead of 2; 4 spill and run at half
 * the speed; docs/PERFORMANCE.md).
 */
export const CONV3D_SUBGROUP_TILES: Conv3dSubgroupTiles = { wg: 64, tp: 3, cv: 8 };

/**
 * The blocking for a layer whose channel block (output channels forward, input
 * channels backward_input) has `channels` channels: 8 or 16 channels run 2 or 4 vec4
 * groups with proportionally more positions, so no accumulator holds a channel past
 * the layer's last (docs/PERFORMANCE.md).
 */
export function subgroupTilesFor(channels: number): Conv3dSubgroupTiles {
  const cv = subgroupChannelGroups(channels);
  return cv === 8 ? CONV3D_SUBGROUP_TILES : { wg: 64, tp: SUBGROUP_NARROW_TP[cv]!, cv };
}

/** Positions per invocation of the narrow channel blocks, by CV. */
const SUBGROUP_NARROW_TP: Record<number, number> = { 2: 6, 4: 4 };

/** Vec4 channel groups per invocation for a channel count: the fewest of 2, 4, 8 that cover it (8 past 16). */
export function subgroupChannelGroups(channels: number): number {
  return channels <= 8 ? 2 : channels <= 16 ? 4 : 8;
}

/** Options of the conv3d dispatchers: which kernels, and their blocking (tests use small blockings). */
export interface Conv3dOptions {
  kernel?: Conv3dKernel;
  direct?: Conv3dDirectTiles;
  subgroup?: Conv3dSubgroupTiles;
  tiled?: Conv3dTiledTiles;
  rows?: Conv3dRowsTiles;
  /** Winograd's output tile side (conv3d_winograd.ts): F(2×2, 3×3) or F(4×4, 3×3). */
  winograd?: { tile: WinogradTile };
}

/**
 * Blocking of conv3d_forward_rows: WG invocations per workgroup, each owning TW
 * consecutive positions along W × 4·CV output channels (CV as the subgroup kernels).
 */
export interface Conv3dRowsTiles {
  wg: number;
  tw: number;
  cv?: number;
}

/** Widest kernel the rows shader's register window holds. */
export const ROWS_MAX_KW = 7;

/** Whether conv3d_forward_rows can run a shape: a kernel at most ROWS_MAX_KW wide, 8-lane subgroups. */
export function rowsApplies(gpu: Gpu, s: Conv3dShape): boolean {
  return gpu.features.shuffle8 && s.kw <= ROWS_MAX_KW;
}

/**
 * Whether the rows kernel is the untuned default of a forward: where it applies and
 * the layer has one input channel (the first layer). Wider inputs run it only where
 * `ser tune` measured it fastest.
 */
export function rowsByDefault(gpu: Gpu, s: Conv3dShape): boolean {
  return rowsApplies(gpu, s) && s.cin === 1;
}

/** Taps (kd·kh·kw) the rows backward_weight holds: 31 accumulators and one for the bias. */
export const WEIGHT_ROWS_MAX_TAPS = 31;

/**
 * Whether conv3d_backward_weight_rows can run a shape: one input channel, at most
 * WEIGHT_ROWS_MAX_TAPS taps, kd·kh at most 16. Where it can, it is backward_weight's
 * untuned default (the first layer), on every device.
 */
export function weightRowsApplies(s: Conv3dShape): boolean {
  return s.cin === 1 && s.kd * s.kh * s.kw <= WEIGHT_ROWS_MAX_TAPS && s.kd * s.kh <= 16;
}

/** Invocations per workgroup of conv3d_backward_weight_rows. */
export const WEIGHT_ROWS_WG = 64;
/** Invocations the rows backward_weight aims for (chunks × channel blocks): enough workgroups for every core, few partials to add. */
const WEIGHT_ROWS_TARGET = 2048;

/** How conv3d_backward_weight_rows splits `rows` output rows over chunks, for `cblocks` blocks of 4 channels. */
export function weightRowsChunks(rows: number, cblocks: number): { rowsPerChunk: number; chunks: number } {
  const rowsPerChunk = Math.max(1, Math.ceil((rows * cblocks) / WEIGHT_ROWS_TARGET));
  return { rowsPerChunk, chunks: Math.ceil(rows / rowsPerChunk) };
}

/**
 * The rows blocking for a layer with `channels` output channels and output rows of
 * `rowLength` positions: 4 positions per invocation at 32 channels or more; at 8 or 16
 * channels the row cut into equal runs of at most 32 or 16 positions (64 accumulators).
 * On lavapipe 4 positions at 64 channels ran the report's first layer in 59 ms against
 * 90 ms with 2; at width 1/8 runs of 30 positions ran it in 3.3 ms against 7.3 ms with
 * 8, and at width 1/4 runs of 15 in 7.5 ms against 8.7 ms with 4 (docs/PERFORMANCE.md).
 */
export function rowsTilesFor(channels: number, rowLength: number): Conv3dRowsTiles {
  const cv = subgroupChannelGroups(channels);
  if (cv === 8) return { wg: 64, tw: 4, cv };
  return { wg: 64, tw: evenRuns(rowLength, 64 / cv), cv };
}

/** The length of the runs that cut `length` into as few equal runs of at most `most` as it can. */
export function evenRuns(length: number, most: number): number {
  return Math.ceil(length / Math.ceil(Math.max(1, length) / most));
}

/** Override constants of a rows blocking, validated against the shader's array sizes and the device limits. */
export function rowsConstants(gpu: Gpu, t: Conv3dRowsTiles, kw: number, shader: string): Record<string, number> {
  const cv = t.cv ?? 8;
  const ok = Number.isInteger(t.wg) && t.wg > 0 && t.wg % 8 === 0 && Number.isInteger(t.tw) && t.tw >= 1 && t.tw <= 32 && [2, 4, 8].includes(cv) && cv * t.tw <= 64 && kw <= ROWS_MAX_KW;
  if (!ok) throw new Error(`${shader}: invalid blocking ${JSON.stringify(t)} for a kernel ${kw} wide`);
  checkWorkgroupSize(gpu, t.wg, shader);
  return { WG: t.wg, TW: t.tw, CV: cv, KW: kw };
}

export function chooseKernel(gpu: Gpu, o: Conv3dOptions, shader: string, has: Conv3dKernel[] = ['subgroup', 'direct']): Conv3dKernel {
  let k = o.kernel ?? conv3dKernel(gpu);
  if (!has.includes(k)) k = conv3dKernel(gpu);
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
  const cv = t.cv ?? 8;
  const ok = Number.isInteger(t.wg) && t.wg > 0 && t.wg % 8 === 0 && Number.isInteger(t.tp) && t.tp >= 1 && t.tp <= 8 && [2, 4, 8].includes(cv) && cv * t.tp <= 32;
  if (!ok) throw new Error(`${shader}: invalid blocking ${JSON.stringify(t)}`);
  checkWorkgroupSize(gpu, t.wg, shader);
  return { WG: t.wg, TP: t.tp, CV: cv };
}

/**
 * Blocking of the tiled implicit GEMMs (conv3d_forward_tiled, conv3d_backward_input_tiled):
 * a workgroup computes BM×BN outputs (positions × channels) in BK-slices staged in
 * workgroup memory, TM×TN per invocation, so the workgroup has (BN/TN)·(BM/TM) invocations.
 */
export interface Conv3dTiledTiles {
  bm: number;
  bn: number;
  bk: number;
  tm: number;
  tn: number;
}

/**
 * A tiled blocking for `rows` × `cols` outputs: the narrowest power-of-two column tile
 * that covers `cols` (up to 64), row tiles as large as the row count allows while
 * leaving several workgroups per core; 8×4 register blocks where the tile is 64×64
 * (half the workgroup-memory reads per multiply-add of 4×4).
 */
export function tiledTilesFor(rows: number, cols: number): Conv3dTiledTiles {
  const bn = cols <= 4 ? 4 : cols <= 8 ? 8 : cols <= 16 ? 16 : cols <= 32 ? 32 : 64;
  let bm = rows >= 1024 ? 64 : rows >= 256 ? 32 : 16;
  if (bn <= 8 && rows >= 2048) bm = 128;
  return { bm, bn, bk: 16, tm: bm === 64 && bn === 64 ? 8 : 4, tn: 4 };
}

/** Override constants of a tiled blocking, validated against the shaders' array sizes and the device limits. */
export function tiledConstants(gpu: Gpu, t: Conv3dTiledTiles, shader: string): Record<string, number> {
  const wgX = t.bn / t.tn;
  const wgY = t.bm / t.tm;
  const threads = wgX * wgY;
  const ok =
    [t.bm, t.bn, t.bk, t.tm, t.tn].every((v) => Number.isInteger(v) && v > 0 && v % 4 === 0) &&
    t.bm % t.tm === 0 &&
    t.bn % t.tn === 0 &&
    t.tm * t.tn <= 64 &&
    t.tn <= 8 &&
    // Each invocation stages the same 4 rows of A in every K-slice.
    threads % (t.bm / 4) === 0;
  if (!ok) throw new Error(`${shader}: invalid blocking ${JSON.stringify(t)}`);
  const lim = gpu.limits;
  if (threads > lim.maxComputeInvocationsPerWorkgroup || wgX > lim.maxComputeWorkgroupSizeX || wgY > lim.maxComputeWorkgroupSizeY) {
    throw new Error(`${shader}: ${wgX}×${wgY} invocations exceed the device's workgroup limits`);
  }
  if ((t.bm + t.bn) * t.bk * 4 > lim.maxComputeWorkgroupStorageSize) {
    throw new Error(`${shader}: blocking ${JSON.stringify(t)} needs more than the device's ${lim.maxComputeWorkgroupStorageSize} bytes of workgroup memory`);
  }
  return { BM: t.bm, BN: t.bn, BK: t.bk, TM: t.tm, TN: t.tn, WG_X: wgX, WG_Y: wgY };
}

/** Workgroups (channel tiles, position tiles) of a tiled blocking, the position tiles folded into z past the per-dimension limit. */
export function tiledGrid(gpu: Gpu, rows: number, cols: number, t: Conv3dTiledTiles): [number, number, number] {
  const gy = Math.ceil(rows / t.bm);
  const z = Math.ceil(gy / gpu.limits.maxComputeWorkgroupsPerDimension);
  return [Math.ceil(cols / t.bn), Math.ceil(gy / z), z];
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
 * channels (8 or 16 for layers that narrow: subgroupChannelGroups), one per group of 8
 * lanes; splits of the position reduction are whole multiples of 16 positions.
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
