// Per-clip power_to_db (ref = max) and min-max scaling to [0, 1].
// Shaders: clip_minmax.wgsl (reduction), power_to_db.wgsl (elementwise).
// Reference: powerToDbRef in src/ref/melspec.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export const CLIP_MINMAX: KernelSpec = {
  shader: 'clip_minmax',
  params: [
    ['clips', 'u32'],
    ['groups_x', 'u32'],
  ],
  inputs: ['clipInfo', 'mel'],
  outputs: ['stats'],
};

export const POWER_TO_DB: KernelSpec = {
  shader: 'power_to_db',
  params: [
    ['amin', 'f32'],
    ['top_db', 'f32'],
    ['clips', 'u32'],
  ],
  inputs: ['clipInfo', 'stats', 'mel'],
  outputs: ['db', 'scaled'],
};

export interface PowerToDbShape {
  clips: number;
  /** Largest n_mels·frames of any clip. */
  maxCount: number;
  amin: number;
  topDb: number;
}

const WG = 256;

/** stats[c] = (max, min) of clip c's mel power. */
export function clipMinMax(r: Recorder, stats: GPUBuffer, clipInfo: GPUBuffer, mel: GPUBuffer, s: PowerToDbShape): void {
  const [gx, gy] = grid1d(r.gpu, s.clips, 1);
  r.dispatch(CLIP_MINMAX, { params: { clips: s.clips, groups_x: gx }, buffers: { clipInfo, mel, stats }, constants: { WG }, workgroups: [gx, gy] });
}

export function powerToDb(r: Recorder, db: GPUBuffer, scaled: GPUBuffer, clipInfo: GPUBuffer, stats: GPUBuffer, mel: GPUBuffer, s: PowerToDbShape): void {
  const maxY = r.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (s.clips > maxY) throw new RangeError(`powerToDb: ${s.clips} clips exceed ${maxY} per dispatch`);
  r.dispatch(POWER_TO_DB, {
    params: { amin: s.amin, top_db: s.topDb, clips: s.clips },
    buffers: { clipInfo, stats, mel, db, scaled },
    constants: { WG },
    workgroups: [Math.max(1, Math.ceil(s.maxCount / WG)), s.clips],
  });
}
