// conv3d benchmark on the report's five layer shapes: the kernels this device runs
// (what `ser tune` chose, else the defaults: the subgroup kernels where it has 8-lane
// subgroups and the rows kernel for the first layer's forward; conv3dKernelFor) in all three
// directions, and, as baselines, the portable direct kernels they replace there,
// timed one after the other in the same run. Before any timing, every kernel set's
// outputs are checked against the float64 reference (src/ref/conv3d.ts) on a
// sample of the outputs (sampledReference). tinybench drives the iterations; each
// sample is GPU timestamps around one call (bench/gpu_timing.ts), reported as the
// median after one warm-up call (pipeline compilation).
//
//   npx tsx bench/conv3d.bench.ts [batch ...]     (default: 8)
//   CONV3D_BENCH_ITERS=5 CONV3D_BENCH_LAYERS=conv2,conv3 npx tsx bench/conv3d.bench.ts 8 32
import { getGpu, type Gpu } from '../src/kernels/gpu.js';
import { run, type Recorder } from '../src/kernels/kernel.js';
import { medianGpuMs } from './gpu_timing.js';
import { checkClose, pickAxis, randomData } from './validate.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dForwardRef } from '../src/ref/conv3d.js';
import { maxAbs } from '../src/util/tolerance.js';
import {
  conv3dBackwardInput,
  conv3dBackwardWeight,
  conv3dFlops,
  conv3dForward,
  conv3dKernel,
  conv3dKernelFor,
  conv3dOutShape,
  type Conv3dKernel,
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

/**
 * |gpu − ref| ≤ atol·max|ref| + rtol·|ref|, per direction: atol is scaled by the
 * largest value because backward_weight sums up to 10^6 products per element and
 * its small elements carry the rounding of the large partial sums.
 */
const TOL = {
  forward: { atol: 1e-5, rtol: 1e-4 },
  backward_input: { atol: 1e-5, rtol: 1e-4 },
  backward_weight: { atol: 1e-5, rtol: 1e-4 },
};

/** A few of c channels: the first, the last and two between. */
function sampleChannels(c: number): number[] {
  return [...new Set([0, Math.floor(c / 3), Math.floor((2 * c) / 3) + 1, c - 1])].filter((i) => i < c).sort((a, b) => a - b);
}

/** Reference values of a sample of the outputs, and how to take the same sample of the GPU's. */
interface Sampled {
  y: Float64Array;
  dx: Float64Array;
  dw: Float64Array;
  db: Float64Array;
  /** Elements of the GPU's outputs to read: y and dx of the first batch sample. */
  yLen: number;
  dxLen: number;
  pickY: (y: Float32Array) => Float32Array;
  pickDx: (dx: Float32Array) => Float32Array;
  pickDw: (dw: Float32Array) => Float32Array;
  pickDb: (db: Float32Array) => Float32Array;
}

/**
 * The float64 reference is a plain loop that would take minutes at these shapes, so
 * it computes a sample of each output, exactly, from the slice of the inputs that
 * sample depends on: y at a few output channels and dx at a few input channels for
 * the first batch sample, and dw and db for a few (input, output) channel pairs,
 * summed over the whole batch.
 */
function sampledReference(s: Conv3dShape, x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array): Sampled {
  const ci = sampleChannels(s.cin);
  const co = sampleChannels(s.cout);
  const taps = s.kd * s.kh * s.kw;
  const [, od, oh, ow] = conv3dOutShape(s);
  const xPos = s.d * s.h * s.w;
  const yPos = od * oh * ow;
  const first = { ...s, n: 1 };
  const grads = conv3dBackwardWeightRef(pickAxis(dy, s.n * yPos, s.cout, 1, co), pickAxis(x, s.n * xPos, s.cin, 1, ci), { ...s, cin: ci.length, cout: co.length });
  return {
    y: conv3dForwardRef(x.subarray(0, xPos * s.cin), pickAxis(w, taps * s.cin, s.cout, 1, co), pickAxis(b, 1, s.cout, 1, co), { ...first, cout: co.length }),
    dx: conv3dBackwardInputRef(dy.subarray(0, yPos * s.cout), pickAxis(w, taps, s.cin, s.cout, ci), { ...first, cin: ci.length }),
    dw: grads.dw,
    db: grads.db,
    yLen: yPos * s.cout,
    dxLen: xPos * s.cin,
    pickY: (y) => pickAxis(y, yPos, s.cout, 1, co),
    pickDx: (dx) => pickAxis(dx, xPos, s.cin, 1, ci),
    pickDw: (dw) => pickAxis(pickAxis(dw, taps, s.cin, s.cout, ci), taps * ci.length, s.cout, 1, co),
    pickDb: (db) => pickAxis(db, 1, s.cout, 1, co),
  };
}

export interface Conv3dBenchOptions {
  iterations?: number;
  layers?: string[];
  /** Also validate and time the direct kernels where they are not what runs. */
  baselines?: boolean;
  log?: (line: string) => void;
}

/** Times every direction of every report layer at `batch`; the entries `ser bench --json` reports. */
export async function conv3dBenchEntries(gpu: Gpu, batch: number, opts: Conv3dBenchOptions = {}): Promise<Conv3dBenchEntry[]> {
  const iterations = opts.iterations ?? 3;
  const log = opts.log ?? (() => undefined);
  // First what runs (no kernel asked for: the tuned choice or the default), then, as a baseline, the direct kernels.
  const kernels: (Conv3dKernel | null)[] = opts.baselines === true && conv3dKernel(gpu) !== 'direct' ? [null, 'direct'] : [null];
  const out: Conv3dBenchEntry[] = [];
  for (const { layer, s } of reportLayers(batch)) {
    if (opts.layers && !opts.layers.includes(layer)) continue;
    const yLen = conv3dOutShape(s).reduce((a, b) => a * b, 1);
    const xLen = s.n * s.d * s.h * s.w * s.cin;
    const wLen = s.kd * s.kh * s.kw * s.cin * s.cout;
    const host = {
      x: randomData(xLen, 1),
      w: randomData(wLen, 2).map((v) => v / Math.sqrt(s.kd * s.kh * s.kw * s.cin)),
      b: randomData(s.cout, 3),
      dy: randomData(yLen, 4),
    };
    const [x, w, b, dy] = [host.x, host.w, host.b, host.dy].map((a) => gpu.upload(a)) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
    const y = gpu.pool.acquire(yLen * 4);
    const dx = gpu.pool.acquire(xLen * 4);
    const dw = gpu.pool.acquire(wLen * 4);
    const db = gpu.pool.acquire(s.cout * 4);
    const flops = conv3dFlops(s);
    const shape = describeShape(s);
    const opt = (k: Conv3dKernel | null) => (k ? { kernel: k } : {});
    const directions = {
      'conv3d.forward': (r: Recorder, k: Conv3dKernel | null) => conv3dForward(r, y, x, w, b, s, opt(k)),
      'conv3d.backward_input': (r: Recorder, k: Conv3dKernel | null) => conv3dBackwardInput(r, dx, dy, w, s, opt(k)),
      'conv3d.backward_weight': (r: Recorder, k: Conv3dKernel | null) => conv3dBackwardWeight(r, dw, db, dy, x, s, opt(k)),
    };
    const ran = (name: keyof typeof directions, k: Conv3dKernel | null): Conv3dKernel => k ?? conv3dKernelFor(gpu, name.slice('conv3d.'.length) as 'forward', s);

    // Validate every kernel set that will be timed, from zeroed gradients (the backward kernels add into them).
    const ref = sampledReference(s, host.x, host.w, host.b, host.dy);
    const tol = (t: { atol: number; rtol: number }, want: ArrayLike<number>) => ({ atol: t.atol * maxAbs(want), rtol: t.rtol });
    for (const k of kernels) {
      run(gpu, (r) => {
        for (const buf of [dx, dw, db]) r.clear(buf);
        for (const record of Object.values(directions)) record(r, k);
      });
      const got = {
        y: ref.pickY(await gpu.readF32(y, ref.yLen)),
        dx: ref.pickDx(await gpu.readF32(dx, ref.dxLen)),
        dw: ref.pickDw(await gpu.readF32(dw, wLen)),
        db: ref.pickDb(await gpu.readF32(db, s.cout)),
      };
      const label = k ?? 'default';
      log(`${layer} ${label}: ${checkClose('forward (sampled)', got.y, ref.y, tol(TOL.forward, ref.y))}`);
      log(`${layer} ${label}: ${checkClose('backward_input (sampled)', got.dx, ref.dx, tol(TOL.backward_input, ref.dx))}`);
      log(`${layer} ${label}: ${checkClose('backward_weight dw (sampled)', got.dw, ref.dw, tol(TOL.backward_weight, ref.dw))}`);
      log(`${layer} ${label}: ${checkClose('backward_weight db (sampled)', got.db, ref.db, tol(TOL.backward_weight, ref.db))}`);
    }

    for (const [name, record] of Object.entries(directions) as [keyof typeof directions, (r: Recorder, k: Conv3dKernel | null) => void][]) {
      const tasks = kernels.map((k, i) => ({ name: i ? `${name}_direct` : name, record: (r: Recorder) => record(r, k) }));
      const ms = await medianGpuMs(gpu, tasks, { iterations });
      tasks.forEach((t, i) => {
        const e: Conv3dBenchEntry = { name: t.name as Conv3dBenchEntry['name'], kernel: ran(name, kernels[i] ?? null), shape, ms: ms[i]!, gflops: flops / ms[i]! / 1e6 };
        out.push(e);
        log(`${layer} ${e.name.padEnd(30)} ${e.kernel.padEnd(8)} ${shape.padEnd(28)} ${e.ms.toFixed(1).padStart(9)} ms ${e.gflops.toFixed(2).padStart(7)} GFLOP/s` + (i ? ` (${name} ${(e.ms / ms[0]!).toFixed(2)}× faster)` : ''));
      });
    }
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
