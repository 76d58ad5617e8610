// conv3d benchmark on the report's five layer shapes: the kernels this device runs
// (the subgroup kernels where it has 8-lane subgroups, conv3dKernel) in all three
// directions, and, as baselines, the portable direct kernels they replace there,
// timed one after the other in the same run and checked against them. tinybench
// drives the iterations; each sample is GPU timestamps around one call
// (bench/gpu_timing.ts), reported as the median after one warm-up call (pipeline
// compilation).
//
//   npx tsx bench/conv3d.bench.ts [batch ...]     (default: 8)
//   CONV3D_BENCH_ITERS=5 CONV3D_BENCH_LAYERS=conv2,conv3 npx tsx bench/conv3d.bench.ts 8 32
import { getGpu, type Gpu } from '../src/kernels/gpu.js';
import { run, type Recorder } from '../src/kernels/kernel.js';
import { medianGpuMs } from './gpu_timing.js';
import {
  conv3dBackwardInput,
  conv3dBackwardWeight,
  conv3dFlops,
  conv3dForward,
  conv3dKernel,
  conv3dOutShape,
  type Conv3dShape,
} from '../src/kernels/conv3d.js';

export interface Conv3dBenchEntry {
  name: 'conv3d.forward' | 'conv3d.backward_input' | 'conv3d.backward_weight' | 'conv3d.forward_direct' | 'conv3d.backward_input_direct' | 'conv3d.backward_weight_direct';
  /** The shaders that ran: `subgroup` or `direct` (src/kernels/conv3d.ts). */
  kernel: string;
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
  /** Also time the direct kernels (where they are not what runs) and check the shipped ones against them. */
  baselines?: boolean;
  log?: (line: string) => void;
}

/** Times every direction of every report layer at `batch`; the entries `ser bench --json` reports. */
export async function conv3dBenchEntries(gpu: Gpu, batch: number, opts: Conv3dBenchOptions = {}): Promise<Conv3dBenchEntry[]> {
  const iterations = opts.iterations ?? 3;
  const log = opts.log ?? (() => undefined);
  const kernel = conv3dKernel(gpu);
  const withBaselines = opts.baselines === true && kernel !== 'direct';
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
    /** Times the shipped kernel and, with baselines, the direct one; checks the two against each other. */
    const time = async (
      name: 'conv3d.forward' | 'conv3d.backward_input' | 'conv3d.backward_weight',
      record: (r: Recorder, out: GPUBuffer, k: 'subgroup' | 'direct') => void,
      dst: { buf: GPUBuffer; len: number; accumulates: boolean },
    ): Promise<void> => {
      const base = gpu.pool.acquire(dst.len * 4);
      const tasks = [{ name, record: (r: Recorder) => record(r, dst.buf, kernel) }];
      if (withBaselines) tasks.push({ name: `${name}_direct` as typeof name, record: (r: Recorder) => record(r, base, 'direct') });
      const ms = await medianGpuMs(gpu, tasks, { iterations });
      tasks.forEach((t, i) => {
        const e: Conv3dBenchEntry = { name: t.name as Conv3dBenchEntry['name'], kernel: i ? 'direct' : kernel, shape, ms: ms[i]!, gflops: flops / ms[i]! / 1e6 };
        out.push(e);
        log(`${layer} ${e.name.padEnd(30)} ${e.kernel.padEnd(8)} ${shape.padEnd(28)} ${e.ms.toFixed(1).padStart(9)} ms ${e.gflops.toFixed(2).padStart(7)} GFLOP/s` + (i ? ` (${name} ${(e.ms / ms[0]!).toFixed(2)}× faster)` : ''));
      });
      if (withBaselines) {
        run(gpu, (r) => {
          // The backward kernels add into their outputs: start both from zero.
          if (dst.accumulates) {
            r.clear(dst.buf);
            r.clear(base);
          }
          record(r, dst.buf, kernel);
          record(r, base, 'direct');
        });
        const diff = await maxRelDiff(gpu, dst.buf, base, dst.len);
        log(`${layer} max |${name} ${kernel} - direct| / (1 + max |direct|) = ${diff.toExponential(2)}`);
        if (!(diff < 1e-4)) throw new Error(`${layer}: ${name} ${kernel} and direct disagree (${diff})`);
      }
      gpu.pool.release(base);
    };
    await time('conv3d.forward', (r, o, k) => conv3dForward(r, o, x, w, b, s, { kernel: k }), { buf: y, len: yLen, accumulates: false });
    await time('conv3d.backward_input', (r, o, k) => conv3dBackwardInput(r, o, dy, w, s, { kernel: k }), { buf: dx, len: xLen, accumulates: true });
    await time('conv3d.backward_weight', (r, o, k) => conv3dBackwardWeight(r, o, db, dy, x, s, { kernel: k }), { buf: dw, len: wLen, accumulates: true });
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
