// conv3d benchmark on the report's five layer shapes: the shipped (direct) forward,
// backward_input and backward_weight, each against the variants it replaced, timed
// one after the other in the same run and checked against it: the tiled implicit GEMMs with
// workgroup-memory staging (conv3d_*_tiled.wgsl) and, for the forward, one invocation
// per output (conv3d_forward_naive.wgsl). tinybench drives the iterations; each
// sample is GPU timestamps around one call (bench/gpu_timing.ts), reported as the
// median after one warm-up call (pipeline compilation).
//
//   npx tsx bench/conv3d.bench.ts [batch ...]     (default: 8)
//   CONV3D_BENCH_ITERS=5 CONV3D_BENCH_LAYERS=conv2,conv3 npx tsx bench/conv3d.bench.ts 8 32
import { getGpu, type Gpu } from '../src/kernels/gpu.js';
import { grid1d, run, type KernelSpec, type Recorder } from '../src/kernels/kernel.js';
import { medianGpuMs } from './gpu_timing.js';
import {
  CONV3D_BACKWARD_INPUT,
  CONV3D_BACKWARD_WEIGHT,
  CONV3D_FORWARD,
  conv3dBackwardInput,
  conv3dBackwardWeight,
  conv3dFlops,
  conv3dForward,
  conv3dOutShape,
  conv3dPads,
  conv3dReducePartials,
  conv3dWeightSplits,
  type Conv3dShape,
} from '../src/kernels/conv3d.js';

export interface Conv3dBenchEntry {
  name:
    | 'conv3d.forward'
    | 'conv3d.backward_input'
    | 'conv3d.backward_weight'
    | 'conv3d.forward_tiled'
    | 'conv3d.forward_naive'
    | 'conv3d.backward_input_tiled'
    | 'conv3d.backward_weight_tiled';
  shape: string;
  ms: number;
  gflops: number;
}

/** The report's convolutions (channels last, `same` padding) at batch `n`. */
export function reportLayers(n: number): { layer: string; s: Conv3dShape }[] {
  const c = (d: number, h: number, w: number, cin: number, cout: number, k: number): Conv3dShape => ({ n, d, h, w, cin, cout, kd: 1, kh: k, kw: k, padding: 'same' });
  return [
    { layer: 'conv1', s: c(3, 128, 60, 1, 64, 5) },
    { layer: 'conv2', s: c(3, 64, 30, 64, 128, 3) },
    { layer: 'conv3', s: c(3, 32, 15, 128, 256, 3) },
    { layer: 'conv4', s: c(3, 16, 7, 256, 512, 3) },
    { layer: 'conv5', s: c(3, 8, 3, 512, 512, 1) },
  ];
}

const describeShape = (s: Conv3dShape): string => `[${s.n},${s.d},${s.h},${s.w},${s.cin}]→${s.cout} ${s.kd}×${s.kh}×${s.kw}`;

/** Same params and bindings as the shipped forward, so the two are interchangeable. */
const CONV3D_FORWARD_NAIVE: KernelSpec = { ...CONV3D_FORWARD, shader: 'conv3d_forward_naive' };
const NAIVE_WG = 64;

// The tiled variants below (workgroup-memory staging of both GEMM operands, TM×TN
// register blocks) are the kernels the direct ones replaced; their tile choice lives here.

/** Tile sizes of one GEMM: a workgroup computes BM×BN outputs in BK-slices, TM×TN per invocation. */
export interface Conv3dTiles {
  bm: number;
  bn: number;
  bk: number;
  tm: number;
  tn: number;
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

/** Same params and bindings again: the tiled implicit GEMM with workgroup-memory staging that the direct forward replaced. */
const CONV3D_FORWARD_TILED: KernelSpec = { ...CONV3D_FORWARD, shader: 'conv3d_forward_tiled' };

export function conv3dForwardTiled(r: Recorder, y: GPUBuffer, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, s: Conv3dShape, tiles?: Conv3dTiles): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const [pd, ph, pw] = conv3dPads(s);
  const m = s.n * od * oh * ow;
  const t = tiles ?? chooseTiles(m, s.cout);
  r.dispatch(CONV3D_FORWARD_TILED, {
    params: { n: s.n, d: s.d, h: s.h, w: s.w, cin: s.cin, od, oh, ow, cout: s.cout, kd: s.kd, kh: s.kh, kw: s.kw, pd, ph, pw, m, k: s.kd * s.kh * s.kw * s.cin, has_bias: b ? 1 : 0 },
    buffers: { x, w, b: b ?? w, y },
    constants: { ...tileConstants(r.gpu, t, CONV3D_FORWARD_TILED.shader), VEC_A: s.cin % 4 === 0 ? 1 : 0, VEC_B: s.cout % 4 === 0 ? 1 : 0 },
    workgroups: tileGrid(r.gpu, m, s.cout, t),
  });
}

/** The tiled implicit GEMM with workgroup-memory staging that the direct backward_input replaced. */
const CONV3D_BACKWARD_INPUT_TILED: KernelSpec = { ...CONV3D_BACKWARD_INPUT, shader: 'conv3d_backward_input_tiled' };

export function conv3dBackwardInputTiled(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, w: GPUBuffer, s: Conv3dShape, tiles?: Conv3dTiles): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const [pd, ph, pw] = conv3dPads(s);
  const m = s.n * s.d * s.h * s.w;
  const t = tiles ?? chooseTiles(m, s.cin);
  r.dispatch(CONV3D_BACKWARD_INPUT_TILED, {
    params: { n: s.n, d: s.d, h: s.h, w: s.w, cin: s.cin, od, oh, ow, cout: s.cout, kd: s.kd, kh: s.kh, kw: s.kw, pd, ph, pw, m, k: s.kd * s.kh * s.kw * s.cout },
    buffers: { dy, w, dx },
    constants: { ...tileConstants(r.gpu, t, CONV3D_BACKWARD_INPUT_TILED.shader), VEC: s.cout % 4 === 0 ? 1 : 0 },
    workgroups: tileGrid(r.gpu, m, s.cin, t),
  });
}

/** The tiled split-K GEMM with workgroup-memory staging that the direct backward_weight replaced. */
const CONV3D_BACKWARD_WEIGHT_TILED: KernelSpec = { ...CONV3D_BACKWARD_WEIGHT, shader: 'conv3d_backward_weight_tiled' };

export function conv3dBackwardWeightTiled(r: Recorder, dw: GPUBuffer, db: GPUBuffer | null, dy: GPUBuffer, x: GPUBuffer, s: Conv3dShape, tiles?: Conv3dTiles): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const [pd, ph, pw] = conv3dPads(s);
  const k = s.kd * s.kh * s.kw * s.cin;
  const t = tiles ?? chooseTiles(k + 1, s.cout);
  const { splits, tilesPerSplit } = conv3dWeightSplits(s, r.gpu.limits.maxComputeWorkgroupsPerDimension, { rows: t.bm, cols: t.bn, positions: t.bk });
  const partial = r.pool.acquire(splits * (k + 1) * s.cout * 4, 'conv3d partials');
  r.dispatch(CONV3D_BACKWARD_WEIGHT_TILED, {
    params: { n: s.n, d: s.d, h: s.h, w: s.w, cin: s.cin, od, oh, ow, cout: s.cout, kd: s.kd, kh: s.kh, kw: s.kw, pd, ph, pw, m: s.n * od * oh * ow, k, tiles_per_split: tilesPerSplit },
    buffers: { dy, x, partial },
    constants: { ...tileConstants(r.gpu, t, CONV3D_BACKWARD_WEIGHT_TILED.shader), VEC_A: s.cin % 4 === 0 ? 1 : 0, VEC_B: s.cout % 4 === 0 ? 1 : 0 },
    workgroups: [Math.ceil(s.cout / t.bn), Math.ceil((k + 1) / t.bm), splits],
  });
  conv3dReducePartials(r, dw, db, partial, splits, s);
}

export function conv3dForwardNaive(r: Recorder, y: GPUBuffer, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, s: Conv3dShape): void {
  const [, od, oh, ow] = conv3dOutShape(s);
  const [pd, ph, pw] = conv3dPads(s);
  const m = s.n * od * oh * ow;
  r.dispatch(CONV3D_FORWARD_NAIVE, {
    params: { n: s.n, d: s.d, h: s.h, w: s.w, cin: s.cin, od, oh, ow, cout: s.cout, kd: s.kd, kh: s.kh, kw: s.kw, pd, ph, pw, m, k: s.kd * s.kh * s.kw * s.cin, has_bias: b ? 1 : 0 },
    buffers: { x, w, b: b ?? w, y },
    constants: { WG: NAIVE_WG },
    workgroups: grid1d(r.gpu, m * s.cout, NAIVE_WG),
  });
}

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/**
 * max |a - b| / (1 + max |b|) over the first n elements of two GPU buffers: scaled by
 * the largest value, since backward_weight sums ~10^5 products per element and its
 * small elements carry the rounding of the large partial sums.
 */
async function maxRelDiff(gpu: Gpu, a: GPUBuffer, b: GPUBuffer, n: number): Promise<number> {
  const [x, y] = [await gpu.readF32(a, n), await gpu.readF32(b, n)];
  let d = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    d = Math.max(d, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return d / (1 + scale);
}

export interface Conv3dBenchOptions {
  iterations?: number;
  layers?: string[];
  /** Also time the tiled and naive forward variants and check the forward against them. */
  baselines?: boolean;
  log?: (line: string) => void;
}

/** Times every direction of every report layer at `batch`; the entries `ser bench --json` reports. */
export async function conv3dBenchEntries(gpu: Gpu, batch: number, opts: Conv3dBenchOptions = {}): Promise<Conv3dBenchEntry[]> {
  const iterations = opts.iterations ?? 3;
  const log = opts.log ?? (() => undefined);
  const out: Conv3dBenchEntry[] = [];
  for (const { layer, s } of reportLayers(batch)) {
    if (opts.layers && !opts.layers.includes(layer)) continue;
    const yLen = conv3dOutShape(s).reduce((a, b) => a * b, 1);
    const xLen = s.n * s.d * s.h * s.w * s.cin;
    const wLen = s.kd * s.kh * s.kw * s.cin * s.cout;
    const x = gpu.upload(random(xLen, 1));
    const w = gpu.upload(random(wLen, 2).map((v) => v / Math.sqrt(s.kd * s.kh * s.kw * s.cin)));
    const b = gpu.upload(random(s.cout, 3));
    const dy = gpu.upload(random(yLen, 4));
    const y = gpu.pool.acquire(yLen * 4);
    const dx = gpu.pool.acquire(xLen * 4);
    const dw = gpu.pool.acquire(wLen * 4);
    const db = gpu.pool.acquire(s.cout * 4);
    const flops = conv3dFlops(s);
    const shape = describeShape(s);
    /** Times the shipped kernel and, with baselines, its variants; checks each variant against it. */
    const time = async (
      name: Conv3dBenchEntry['name'],
      record: (r: Recorder) => void,
      dst: { buf: GPUBuffer; len: number; accumulates: boolean },
      variants: [Conv3dBenchEntry['name'], (r: Recorder, out: GPUBuffer) => void][],
    ): Promise<void> => {
      if (!opts.baselines) variants = [];
      const base = gpu.pool.acquire(dst.len * 4);
      const ms = await medianGpuMs(gpu, [{ name, record }, ...variants.map(([n, v]) => ({ name: n, record: (r: Recorder) => v(r, base) }))], { iterations });
      for (const [i, n] of [name, ...variants.map(([v]) => v)].entries()) {
        const e = { name: n, shape, ms: ms[i]!, gflops: flops / ms[i]! / 1e6 };
        out.push(e);
        log(`${layer} ${n.padEnd(28)} ${shape.padEnd(28)} ${e.ms.toFixed(1).padStart(9)} ms ${e.gflops.toFixed(2).padStart(7)} GFLOP/s` + (i ? ` (${name} ${(e.ms / ms[0]!).toFixed(2)}× faster)` : ''));
      }
      for (const [v, variant] of variants) {
        run(gpu, (r) => {
          // The backward kernels add into their outputs: start both from zero.
          if (dst.accumulates) {
            r.clear(dst.buf);
            r.clear(base);
          }
          record(r);
          variant(r, base);
        });
        const diff = await maxRelDiff(gpu, dst.buf, base, dst.len);
        log(`${layer} max |${name} - ${v}| / (1 + max |${v}|) = ${diff.toExponential(2)}`);
        if (!(diff < 1e-4)) throw new Error(`${layer}: ${name} and ${v} disagree (${diff})`);
      }
      gpu.pool.release(base);
    };
    await time('conv3d.forward', (r) => conv3dForward(r, y, x, w, b, s), { buf: y, len: yLen, accumulates: false }, [
      ['conv3d.forward_tiled', (r, o) => conv3dForwardTiled(r, o, x, w, b, s)],
      ['conv3d.forward_naive', (r, o) => conv3dForwardNaive(r, o, x, w, b, s)],
    ]);
    await time('conv3d.backward_input', (r) => conv3dBackwardInput(r, dx, dy, w, s), { buf: dx, len: xLen, accumulates: true }, [
      ['conv3d.backward_input_tiled', (r, o) => conv3dBackwardInputTiled(r, o, dy, w, s)],
    ]);
    await time('conv3d.backward_weight', (r) => conv3dBackwardWeight(r, dw, db, dy, x, s), { buf: dw, len: wLen, accumulates: true }, [
      ['conv3d.backward_weight_tiled', (r, o) => conv3dBackwardWeightTiled(r, o, null, dy, x, s)],
    ]);
    for (const buf of [x, w, b, dy]) buf.destroy();
    for (const buf of [y, dx, dw, db]) gpu.pool.release(buf);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const gpu = await getGpu();
  const batches = process.argv.slice(2).map(Number);
  const layers = process.env.CONV3D_BENCH_LAYERS?.split(',');
  const iterations = Number(process.env.CONV3D_BENCH_ITERS ?? 3);
  console.log(`conv3d on ${gpu.summary.description || gpu.summary.device} (${gpu.summary.backend}), timestamps: ${gpu.features.timestamps}`);
  for (const batch of batches.length ? batches : [8]) {
    await conv3dBenchEntries(gpu, batch, { iterations, layers, baselines: true, log: console.log });
  }
  gpu.destroy();
}
