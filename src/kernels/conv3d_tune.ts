// Kernel choice by measurement (`ser tune`): for each conv3d layer shape and
// pass (forward, backward_input, backward_weight), every candidate kernel and blocking is first
// checked against the portable direct kernel on the same random data (the correctness
// probe), then timed on the GPU; the fastest that passed is filed under the shape's
// key (conv3dTuneKey) in gpu.conv3dTuning, which the dispatchers in conv3d.ts consult
// when asked for no particular kernel. Saving and loading the choices per adapter is
// src/kernels/tune-cache.ts (Node); this module needs only WebGPU.
//
// Candidates:
//   subgroup  8-lane shuffle kernels (where the probe at start-up found them), with the
//             channel block that covers the layer and, for narrow layers, the full 32-channel
//             one; a few positions-per-invocation each.
//   rows      forward with one input channel: each loaded tap reused along a row of positions.
//   winograd  F(2×2, 3×3) and F(4×4, 3×3) for 1×3×3 kernels: transforms and 16 or 36 GEMMs
//             on the default kernels.
//   direct    the portable kernels, default blocking (also the probe's reference).
//   tiled     workgroup-memory tiled implicit GEMMs, for GPUs with 32- or 64-lane
//             subgroups where the shuffle kernels do not apply; two tilings.
// backward_weight has one blocking per kernel: its candidates are subgroup, direct and
// the two Winograd tiles.
import { run, timeRecorded, type Recorder } from './kernel.js';
import { conv3dOutShape, conv3dTuneKey, type Conv3dPass, type Conv3dShape } from './conv3d_shape.js';
import { CONV3D_DIRECT_TILES, evenRuns, rowsApplies, rowsByDefault, rowsTilesFor, weightRowsApplies, subgroupChannelGroups, subgroupTilesFor, tiledTilesFor, type Conv3dOptions } from './conv3d_blocking.js';
import { conv3dBackwardInput, conv3dBackwardWeight, conv3dForward, winogradApplies } from './conv3d.js';
import type { Gpu } from './gpu-core.js';
import { Rng } from '../util/rng.js';

export interface Conv3dCandidate {
  /** Short name for tables: `subgroup cv8 tp3`, `direct`, `tiled 64×64`. */
  label: string;
  options: Conv3dOptions;
}

export interface Conv3dCandidateResult extends Conv3dCandidate {
  /** Median GPU ms at the tuning batch; null when the candidate failed its probe. */
  ms: number | null;
  /** Why it was left out (probe difference or GPU error). */
  error?: string;
}

export interface Conv3dTuneResult {
  key: string;
  direction: Conv3dPass;
  shape: Conv3dShape;
  candidates: Conv3dCandidateResult[];
  /** The fastest candidate that passed its probe. */
  winner: Conv3dCandidate & { ms: number };
  /** The device's default kernel and blocking (what runs untuned), and its time. */
  baseline: { label: string; ms: number | null };
}

/** The candidates for one layer shape and pass on this device. */
export function conv3dCandidates(gpu: Gpu, direction: Conv3dPass, s: Conv3dShape): Conv3dCandidate[] {
  if (direction === 'backward_weight') {
    const out: Conv3dCandidate[] = gpu.features.shuffle8 ? [{ label: 'subgroup', options: { kernel: 'subgroup' } }] : [];
    if (weightRowsApplies(s)) out.push({ label: 'rows', options: { kernel: 'rows' } });
    for (const tile of [2, 4] as const) {
      if (winogradApplies(gpu, s, 'forward', tile)) out.push({ label: `winograd F${tile}`, options: { kernel: 'winograd', winograd: { tile } } });
    }
    out.push({ label: 'direct', options: { kernel: 'direct' } });
    return out;
  }
  const channels = direction === 'forward' ? s.cout : s.cin;
  const [, od, oh, ow] = conv3dOutShape(s);
  const rows = direction === 'forward' ? s.n * od * oh * ow : s.n * s.d * s.h * s.w;
  const out: Conv3dCandidate[] = [];
  if (gpu.features.shuffle8) {
    const cvs = [...new Set([subgroupChannelGroups(channels), 8])];
    for (const cv of cvs) {
      const tps = cv === 8 ? [2, 3] : cv === 4 ? [4, 6] : [4, 6, 8];
      for (const tp of tps) out.push({ label: `subgroup cv${cv} tp${tp}`, options: { kernel: 'subgroup', subgroup: { wg: 64, tp, cv } } });
    }
  }
  if (rowsApplies(gpu, s)) {
    // One input channel holds a scalar window and takes up to 64 accumulators (the
    // longest run cuts a row into equal blocks); vec4 windows of several channels spill
    // past 24 and often run best at 8 (docs/PERFORMANCE.md). backward_input runs as a
    // forward over dy, whose channels are the layer's output channels.
    const cv = subgroupChannelGroups(channels);
    const windowChannels = direction === 'forward' ? s.cin : s.cout;
    const width = direction === 'forward' ? ow : s.w;
    const tws = windowChannels === 1 ? [16 / cv, 32 / cv, evenRuns(width, 64 / cv)] : [8 / cv, 16 / cv, 24 / cv];
    for (const tw of new Set(tws)) out.push({ label: `rows cv${cv} tw${tw}`, options: { kernel: 'rows', rows: { wg: 64, tw, cv } } });
  }
  for (const tile of [2, 4] as const) {
    if (winogradApplies(gpu, s, direction, tile)) out.push({ label: `winograd F${tile}`, options: { kernel: 'winograd', winograd: { tile } } });
  }
  out.push({ label: 'direct', options: { kernel: 'direct', direct: CONV3D_DIRECT_TILES } });
  const t = tiledTilesFor(rows, channels);
  out.push({ label: `tiled ${t.bm}×${t.bn}`, options: { kernel: 'tiled', tiled: t } });
  if (t.bm !== 32) {
    const u = { ...t, bm: 32, tm: 4 };
    out.push({ label: `tiled ${u.bm}×${u.bn}`, options: { kernel: 'tiled', tiled: u } });
  }
  return out;
}

/** The label of the kernel and blocking that run untuned (the dispatchers' defaults). */
function defaultLabel(gpu: Gpu, direction: Conv3dPass, s: Conv3dShape): string {
  if (direction === 'backward_weight' && weightRowsApplies(s)) return 'rows';
  if (!gpu.features.shuffle8) return 'direct';
  if (direction === 'backward_weight') return 'subgroup';
  if (direction === 'forward' && rowsByDefault(gpu, s)) {
    const r = rowsTilesFor(s.cout, conv3dOutShape(s)[3]);
    return `rows cv${r.cv} tw${r.tw}`;
  }
  const t = subgroupTilesFor(direction === 'forward' ? s.cout : s.cin);
  return `subgroup cv${t.cv} tp${t.tp}`;
}

function dispatchOf(direction: Conv3dPass, s: Conv3dShape, b: Buffers, o: Conv3dOptions): (r: Recorder) => void {
  if (direction === 'forward') return (r) => conv3dForward(r, b.out, b.a, b.b, null, s, o);
  // As in training, backward_input is its gradient's first writer (the rows kernel only overwrites).
  if (direction === 'backward_input') return (r) => conv3dBackwardInput(r, b.out, b.a, b.b, s, o, false);
  return (r) => conv3dBackwardWeight(r, b.out, null, b.a, b.b, s, o);
}

/** The pass's two operands and its output: forward x, w → y; backward_input dy, w → dx; backward_weight dy, x → dw. */
interface Buffers {
  a: GPUBuffer;
  b: GPUBuffer;
  out: GPUBuffer;
  outLength: number;
}

function randomBuffers(gpu: Gpu, direction: Conv3dPass, s: Conv3dShape, seed: number): Buffers {
  const [, od, oh, ow] = conv3dOutShape(s);
  const xLen = s.n * s.d * s.h * s.w * s.cin;
  const yLen = s.n * od * oh * ow * s.cout;
  const wLen = s.kd * s.kh * s.kw * s.cin * s.cout;
  const rng = new Rng(seed);
  const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  const [aLen, bLen, outLength] = direction === 'forward' ? [xLen, wLen, yLen] : direction === 'backward_input' ? [yLen, wLen, xLen] : [yLen, xLen, wLen];
  return {
    a: gpu.upload(rand(aLen), 'tune input'),
    b: gpu.upload(rand(bLen), 'tune operand'),
    out: gpu.upload(new Float32Array(outLength), 'tune output'),
    outLength,
  };
}

/** Largest |a − b| / (1 + max |b|): scaled like the conv3d benchmark's check. */
function scaledDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return Number.isFinite(d) ? d / (1 + m) : Infinity;
}

/** A candidate whose warm-up run takes this many times the best median so far is reported by that run alone. */
const SLOW_FACTOR = 3;

/** Probe tolerance: float32 sums in another order agree far closer; a wrong index does not. */
export const TUNE_PROBE_TOLERANCE = 1e-4;

/**
 * Outputs of `o` on the probe data, or the error it raised. The backward passes
 * accumulate, so the output is cleared first.
 */
async function probeOutput(gpu: Gpu, direction: Conv3dPass, s: Conv3dShape, b: Buffers, o: Conv3dOptions): Promise<Float32Array> {
  run(gpu, (r) => {
    r.clear(b.out);
    dispatchOf(direction, s, b, o)(r);
  });
  await gpu.sync();
  return gpu.readF32(b.out, b.outLength);
}

export interface TuneOptions {
  /** Timed repetitions per candidate after one warm-up (median reported). */
  repeats?: number;
  /** Called before each candidate is probed and timed. */
  onCandidate?: (label: string) => void;
  /** The candidates to try instead of conv3dCandidates' (tests). */
  candidates?: Conv3dCandidate[];
}

/**
 * Probes and times every candidate for one layer shape (at its batch `s.n`; the probe
 * runs at batch 1) and files the winner in gpu.conv3dTuning.
 */
export async function tuneConv3d(gpu: Gpu, direction: Conv3dPass, s: Conv3dShape, opts: TuneOptions = {}): Promise<Conv3dTuneResult> {
  const repeats = opts.repeats ?? 3;
  const probeShape = { ...s, n: 1 };
  const probe = randomBuffers(gpu, direction, probeShape, 1);
  const timing = randomBuffers(gpu, direction, s, 2);
  const candidates: Conv3dCandidateResult[] = [];
  try {
    const reference = await probeOutput(gpu, direction, probeShape, probe, { kernel: 'direct' });
    for (const c of opts.candidates ?? conv3dCandidates(gpu, direction, s)) {
      opts.onCandidate?.(c.label);
      try {
        const diff = scaledDiff(await probeOutput(gpu, direction, probeShape, probe, c.options), reference);
        if (!(diff <= TUNE_PROBE_TOLERANCE)) {
          candidates.push({ ...c, ms: null, error: `probe: differs from the direct kernel by ${diff.toExponential(2)}` });
          continue;
        }
        const record = dispatchOf(direction, s, timing, c.options);
        const warm = await timeRecorded(gpu, record);
        // A candidate already far behind the best after its warm-up is not timed further.
        const best = Math.min(...candidates.map((x) => x.ms ?? Infinity));
        if (warm > SLOW_FACTOR * best) {
          await gpu.sync();
          candidates.push({ ...c, ms: warm });
          continue;
        }
        const times: number[] = [];
        for (let i = 0; i < repeats; i++) times.push(await timeRecorded(gpu, record));
        await gpu.sync();
        times.sort((x, y) => x - y);
        candidates.push({ ...c, ms: times[Math.floor(times.length / 2)]! });
      } catch (e) {
        candidates.push({ ...c, ms: null, error: (e as Error).message.split('\n')[0]! });
      }
    }
  } finally {
    for (const x of [probe, timing]) for (const buf of [x.a, x.b, x.out]) buf.destroy();
  }
  const passed = candidates.filter((c): c is Conv3dCandidateResult & { ms: number } => c.ms !== null);
  if (passed.length === 0) throw new Error(`ser tune: no conv3d kernel passed its probe for ${conv3dTuneKey(direction, s)} (${candidates.map((c) => `${c.label}: ${c.error}`).join('; ')})`);
  const best = passed.reduce((a, b) => (b.ms < a.ms ? b : a));
  const key = conv3dTuneKey(direction, s);
  gpu.conv3dTuning.set(key, best.options);
  const label = defaultLabel(gpu, direction, s);
  return {
    key,
    direction,
    shape: s,
    candidates,
    winner: { label: best.label, options: best.options, ms: best.ms },
    baseline: { label, ms: candidates.find((c) => c.label === label)?.ms ?? null },
  };
}
