// conv3d benchmark on the report's five layer shapes: forward, backward_input and
// backward_weight of the tiled implicit GEMM, plus the one-invocation-per-output
// forward (conv3d_forward_naive.wgsl) as the baseline measured in the same run.
// Times are GPU timestamps (timeRecorded), median over the iterations.
//
//   npx tsx bench/conv3d.bench.ts [batch ...]     (default: 8)
//   CONV3D_BENCH_ITERS=5 CONV3D_BENCH_LAYERS=conv2,conv3 npx tsx bench/conv3d.bench.ts 8 32
import { Bench } from 'tinybench';
import { getGpu, type Gpu } from '../src/kernels/gpu.js';
import { grid1d, timeRecorded, type KernelSpec, type Recorder } from '../src/kernels/kernel.js';
import {
  CONV3D_FORWARD,
  conv3dBackwardInput,
  conv3dBackwardWeight,
  conv3dFlops,
  conv3dForward,
  conv3dOutShape,
  conv3dPads,
  type Conv3dShape,
} from '../src/kernels/conv3d.js';

export interface Conv3dBenchEntry {
  name: 'conv3d.forward' | 'conv3d.backward_input' | 'conv3d.backward_weight' | 'conv3d.forward_naive';
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

/** Same params and bindings as the tiled forward, so the two are interchangeable. */
const CONV3D_FORWARD_NAIVE: KernelSpec = { ...CONV3D_FORWARD, shader: 'conv3d_forward_naive' };
const NAIVE_WG = 64;

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

/** Median GPU ms of `record` over tinybench's iterations, after one warm-up call (pipeline compilation). */
async function medianMs(gpu: Gpu, name: string, record: (r: Recorder) => void, iterations: number): Promise<number> {
  const WARMUP = 1;
  const samples: number[] = [];
  // Zero time budgets: tinybench then runs exactly the given numbers of calls.
  const bench = new Bench({ iterations, time: 0, warmupIterations: WARMUP, warmupTime: 0 });
  bench.add(name, async () => {
    samples.push(await timeRecorded(gpu, record));
  });
  await bench.run();
  const measured = samples.slice(WARMUP).sort((a, b) => a - b);
  if (measured.length === 0) throw new Error(`${name}: no measured iterations`);
  return measured[Math.floor(measured.length / 2)]!;
}

/** Largest |a - b| / (1 + |b|) over the first n elements of two GPU buffers. */
async function maxRelDiff(gpu: Gpu, a: GPUBuffer, b: GPUBuffer, n: number): Promise<number> {
  const [x, y] = [await gpu.readF32(a, n), await gpu.readF32(b, n)];
  let d = 0;
  for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!) / (1 + Math.abs(y[i]!)));
  return d;
}

export interface Conv3dBenchOptions {
  iterations?: number;
  layers?: string[];
  /** Also time the naive forward and check the tiled one against it. */
  naive?: boolean;
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
    const time = async (name: Conv3dBenchEntry['name'], record: (r: Recorder) => void): Promise<number> => {
      const ms = await medianMs(gpu, `${name} ${shape}`, record, iterations);
      const e = { name, shape, ms, gflops: flops / ms / 1e6 };
      out.push(e);
      log(`${layer} ${name.padEnd(22)} ${shape.padEnd(28)} ${ms.toFixed(1).padStart(9)} ms ${e.gflops.toFixed(2).padStart(7)} GFLOP/s`);
      return ms;
    };
    const fwd = await time('conv3d.forward', (r) => conv3dForward(r, y, x, w, b, s));
    if (opts.naive) {
      const yNaive = gpu.pool.acquire(yLen * 4);
      const naive = await time('conv3d.forward_naive', (r) => conv3dForwardNaive(r, yNaive, x, w, b, s));
      const diff = await maxRelDiff(gpu, y, yNaive, yLen);
      log(`${layer} tiled / naive forward: ${(naive / fwd).toFixed(2)}× faster; max |tiled - naive| / (1 + |naive|) = ${diff.toExponential(2)}`);
      if (!(diff < 1e-4)) throw new Error(`${layer}: tiled and naive forward disagree (${diff})`);
      gpu.pool.release(yNaive);
    }
    await time('conv3d.backward_input', (r) => conv3dBackwardInput(r, dx, dy, w, s));
    await time('conv3d.backward_weight', (r) => conv3dBackwardWeight(r, dw, db, dy, x, s));
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
    await conv3dBenchEntries(gpu, batch, { iterations, layers, naive: true, log: console.log });
  }
  gpu.destroy();
}
