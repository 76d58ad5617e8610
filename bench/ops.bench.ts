// Benchmarks of every network op except conv3d, at the report network's shapes
// (input [N, 3, 128, 60, 1], width 1; see src/model/ser3dcnn.ts) for batch 8 and 32.
// tinybench drives warm-up and iterations; each sample is the GPU time of one
// recorded command buffer (timestamp queries where the adapter has them, see
// timeRecorded), and the median is reported with GFLOP/s and GB/s. Outputs are
// checked to be finite after timing (the tests compare them with the references).
//
//   npx tsx bench/ops.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { pathToFileURL } from 'node:url';
import { getGpu, type Gpu } from '../src/kernels/gpu.js';
import type { Recorder } from '../src/kernels/kernel.js';
import { medianGpuMs } from './gpu_timing.js';
import { batchnormBackward, batchnormForwardTrain } from '../src/kernels/batchnorm.js';
import { maxpool3dBackward, maxpool3dForward, maxpool3dOutShape, type Maxpool3dShape } from '../src/kernels/maxpool3d.js';
import { bnReluMaxpoolBackward, bnReluMaxpoolForward } from '../src/kernels/bn_relu_maxpool.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { dropoutBackward, dropoutForward } from '../src/kernels/dropout.js';
import { gapBackward, gapForward } from '../src/kernels/gap.js';
import { denseBackwardInput, denseBackwardWeight, denseForward, type DenseShape } from '../src/kernels/dense.js';
import { softmaxFocalLoss } from '../src/kernels/softmax_focal.js';
import { adamUpdate } from '../src/kernels/adam.js';
import { argmaxRows, confusionCounts } from '../src/kernels/metrics.js';

export interface OpBenchResult {
  name: string;
  shape: string;
  /** Median GPU time of one call, ms. */
  ms: number;
  gflops: number;
  /** Compulsory DRAM traffic (each tensor read or written once per pass) over time. */
  gbps: number;
}

export interface OpsBenchOptions {
  batches?: number[];
  /** Timed iterations per op (tinybench's minimum). */
  iterations?: number;
  /** Time budget per op, ms. */
  time?: number;
  /** Called with each result as it is measured. */
  onResult?: (r: OpBenchResult) => void;
}

interface Case {
  name: string;
  shape: string;
  flops: number;
  bytes: number;
  /** Allocates inputs and outputs; returns the recording and the output to check. */
  setup: (alloc: Alloc) => { record: (r: Recorder) => void; check: GPUBuffer };
}

type Alloc = (elems: number, init?: 'random' | 'zero' | 'labels' | Uint32Array) => GPUBuffer;

/** Each window's first element: argmax indices as a forward pass could leave them, one per window (no two outputs share a target). */
function windowStarts(s: Maxpool3dShape): Uint32Array {
  const { od, oh, ow } = maxpool3dOutShape(s);
  const out = new Uint32Array(s.n * od * oh * ow * s.c);
  let o = 0;
  for (let n = 0; n < s.n; n++)
    for (let a = 0; a < od; a++)
      for (let b = 0; b < oh; b++)
        for (let e = 0; e < ow; e++)
          for (let c = 0; c < s.c; c++) out[o++] = (((n * s.d + a * s.pd) * s.h + b * s.ph) * s.w + e * s.pw) * s.c + c;
  return out;
}

const F = 4;

/** Pseudo-random floats in [-1, 1) (an LCG: fast for tens of millions of elements). */
function randomData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

function cases(batch: number): Case[] {
  const N = batch;
  const out: Case[] = [];
  // Batch norm and ReLU at conv1's output, the largest activation: [N, 3, 128, 60, 64].
  const m1 = N * 3 * 128 * 60;
  const c1 = 64;
  for (const [m, c, where] of [
    [m1, c1, 'conv1'],
    [N, 512, 'dense1'],
  ] as const) {
    const s = { m, c };
    out.push({
      name: `batchnorm train forward (${where})`,
      shape: `M=${m} C=${c}`,
      flops: 8 * m * c,
      bytes: 4 * m * c * F,
      setup: (a) => {
        const [x, y, mean, inv, g, b, rm, rv] = [a(m * c), a(m * c, 'zero'), a(c), a(c), a(c), a(c), a(c, 'zero'), a(c, 'zero')];
        return { record: (r) => batchnormForwardTrain(r, y, mean, inv, x, g, b, rm, rv, s), check: y };
      },
    });
    out.push({
      name: `batchnorm backward (${where})`,
      shape: `M=${m} C=${c}`,
      flops: 12 * m * c,
      bytes: 6 * m * c * F,
      setup: (a) => {
        const [x, dy, dx, mean, inv, g, dg, db] = [a(m * c), a(m * c), a(m * c, 'zero'), a(c), a(c), a(c), a(c, 'zero'), a(c, 'zero')];
        return { record: (r) => batchnormBackward(r, dx, dg, db, dy, x, mean, inv, g, s), check: dx };
      },
    });
  }
  const n1 = m1 * c1;
  out.push({
    name: 'relu forward (conv1)',
    shape: `n=${n1}`,
    flops: n1,
    bytes: 2 * n1 * F,
    setup: (a) => {
      const [x, y] = [a(n1), a(n1, 'zero')];
      return { record: (r) => reluForward(r, y, x, n1), check: y };
    },
  });
  out.push({
    name: 'relu backward (conv1)',
    shape: `n=${n1}`,
    flops: n1,
    bytes: 4 * n1 * F,
    setup: (a) => {
      const [dy, y, dx] = [a(n1), a(n1), a(n1, 'zero')];
      return { record: (r) => reluBackward(r, dx, dy, y, n1), check: dx };
    },
  });
  // Max pooling 1×2×2 after conv1, and after conv3 where W 15 → 7 drops a column.
  for (const [s, where] of [
    [{ n: N, d: 3, h: 128, w: 60, c: 64, pd: 1, ph: 2, pw: 2 }, 'conv1'],
    [{ n: N, d: 3, h: 32, w: 15, c: 256, pd: 1, ph: 2, pw: 2 }, 'conv3'],
  ] as [Maxpool3dShape, string][]) {
    const { od, oh, ow } = maxpool3dOutShape(s);
    const nin = s.n * s.d * s.h * s.w * s.c;
    const nout = s.n * od * oh * ow * s.c;
    const shape = `[${s.n},${s.d},${s.h},${s.w},${s.c}] / 1×2×2`;
    out.push({
      name: `maxpool3d forward (${where})`,
      shape,
      flops: nout * 4,
      bytes: (nin + 2 * nout) * F,
      setup: (a) => {
        const [x, y, am] = [a(nin), a(nout, 'zero'), a(nout, 'zero')];
        return { record: (r) => maxpool3dForward(r, y, am, x, s), check: y };
      },
    });
    out.push({
      name: `maxpool3d backward (${where})`,
      shape,
      flops: nout,
      bytes: 4 * nout * F,
      setup: (a) => {
        const [dy, am, dx] = [a(nout), a(nout, windowStarts(s)), a(nin, 'zero')];
        return { record: (r) => maxpool3dBackward(r, dx, dy, am, s), check: dx };
      },
    });
    // The fused block tail that replaces batchnorm forward + relu forward + maxpool3d forward.
    out.push({
      name: `bn_relu_maxpool forward (${where})`,
      shape,
      flops: nin * 4,
      bytes: (nin + 2 * nout) * F,
      setup: (a) => {
        const [x, y, am, g, b, mean, inv] = [a(nin), a(nout, 'zero'), a(nout, 'zero'), a(s.c), a(s.c), a(s.c), a(s.c)];
        return { record: (r) => bnReluMaxpoolForward(r, y, am, x, g, b, mean, inv, s, false), check: y };
      },
    });
    out.push({
      name: `bn_relu_maxpool backward (${where})`,
      shape,
      flops: nout,
      bytes: 4 * nout * F,
      setup: (a) => {
        const [dy, y, am, dv] = [a(nout), a(nout), a(nout, windowStarts(s)), a(nin, 'zero')];
        return { record: (r) => bnReluMaxpoolBackward(r, dv, dy, y, am, s), check: dv };
      },
    });
  }
  // Dropout 0.2 after the first pool: [N, 3, 64, 30, 64].
  const nd = N * 3 * 64 * 30 * 64;
  const ds = { n: nd, rate: 0.2, seed: 1, step: 1 };
  out.push({
    name: 'dropout forward (pool1)',
    shape: `n=${nd}`,
    flops: nd,
    bytes: 2 * nd * F,
    setup: (a) => {
      const [x, y] = [a(nd), a(nd, 'zero')];
      return { record: (r) => dropoutForward(r, y, x, ds), check: y };
    },
  });
  out.push({
    name: 'dropout backward (pool1)',
    shape: `n=${nd}`,
    flops: nd,
    bytes: 3 * nd * F,
    setup: (a) => {
      const [dy, dx] = [a(nd), a(nd, 'zero')];
      return { record: (r) => dropoutBackward(r, dx, dy, ds), check: dx };
    },
  });
  // Global average pooling of conv5's [N, 3, 8, 3, 512].
  const gs = { n: N, spatial: 72, c: 512 };
  const ng = N * 72 * 512;
  out.push({
    name: 'gap forward',
    shape: `[${N},72,512]`,
    flops: ng,
    bytes: (ng + N * 512) * F,
    setup: (a) => {
      const [x, y] = [a(ng), a(N * 512, 'zero')];
      return { record: (r) => gapForward(r, y, x, gs), check: y };
    },
  });
  out.push({
    name: 'gap backward',
    shape: `[${N},72,512]`,
    flops: ng,
    bytes: (2 * ng + N * 512) * F,
    setup: (a) => {
      const [dy, dx] = [a(N * 512), a(ng, 'zero')];
      return { record: (r) => gapBackward(r, dx, dy, gs), check: dx };
    },
  });
  // The three dense layers.
  for (const s of [
    { m: N, k: 512, n: 512 },
    { m: N, k: 512, n: 256 },
    { m: N, k: 256, n: 7 },
  ] as DenseShape[]) {
    const shape = `M=${s.m} K=${s.k} N=${s.n}`;
    const flops = 2 * s.m * s.k * s.n;
    const io = (s.m * s.k + s.k * s.n + s.m * s.n) * F;
    out.push({
      name: `dense forward ${s.k}→${s.n}`,
      shape,
      flops,
      bytes: io,
      setup: (a) => {
        const [x, w, b, y] = [a(s.m * s.k), a(s.k * s.n), a(s.n), a(s.m * s.n, 'zero')];
        return { record: (r) => denseForward(r, y, x, w, b, s), check: y };
      },
    });
    out.push({
      name: `dense backward_input ${s.k}→${s.n}`,
      shape,
      flops,
      bytes: io + s.m * s.k * F,
      setup: (a) => {
        const [dy, w, dx] = [a(s.m * s.n), a(s.k * s.n), a(s.m * s.k, 'zero')];
        return { record: (r) => denseBackwardInput(r, dx, dy, w, s), check: dx };
      },
    });
    out.push({
      name: `dense backward_weight ${s.k}→${s.n}`,
      shape,
      flops: flops + s.m * s.n,
      bytes: io + s.k * s.n * F,
      setup: (a) => {
        const [dy, x, dw, db] = [a(s.m * s.n), a(s.m * s.k), a(s.k * s.n, 'zero'), a(s.n, 'zero')];
        return { record: (r) => denseBackwardWeight(r, dw, db, dy, x, s), check: dw };
      },
    });
  }
  out.push({
    name: 'softmax focal loss + gradient',
    shape: `[${N},7]`,
    flops: N * 7 * 12,
    bytes: (3 * N * 7 + 2 * N + 7) * F,
    setup: (a) => {
      const [logits, labels, alpha, loss, probs, dl] = [a(N * 7), a(N, 'labels'), a(7), a(N, 'zero'), a(N * 7, 'zero'), a(N * 7, 'zero')];
      return { record: (r) => softmaxFocalLoss(r, loss, probs, dl, logits, labels, alpha, { n: N, classes: 7, gamma: 2 }), check: dl };
    },
  });
  out.push({
    name: 'metrics argmax + confusion',
    shape: `[${N},7]`,
    flops: N * 7,
    bytes: (N * 7 + 3 * N) * F,
    setup: (a) => {
      const [probs, labels, pred, counts] = [a(N * 7), a(N, 'labels'), a(N, 'zero'), a(49, 'zero')];
      return {
        record: (r) => {
          argmaxRows(r, pred, probs, { n: N, c: 7 });
          confusionCounts(r, counts, pred, labels, { n: N, c: 7 });
        },
        check: probs,
      };
    },
  });
  return out;
}

/** Adam over as many values as the report network has parameters (about 2.2 M); independent of the batch. */
function adamCase(): Case {
  const n = 1600 + 73_728 + 294_912 + 1_179_648 + 262_144 + 262_144 + 131_072 + 1792;
  return {
    name: 'adam update (all parameters)',
    shape: `n=${n}`,
    flops: 12 * n,
    bytes: 7 * n * F,
    setup: (a) => {
      const [p, g, m, v] = [a(n), a(n), a(n, 'zero'), a(n, 'zero')];
      return { record: (r) => adamUpdate(r, p, g, m, v, { n, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7, step: 1 }), check: p };
    },
  };
}

async function measure(gpu: Gpu, c: Case, opts: OpsBenchOptions): Promise<OpBenchResult> {
  const owned: GPUBuffer[] = [];
  let seed = 1;
  const alloc: Alloc = (elems, init = 'random') => {
    const data =
      init instanceof Uint32Array
        ? init
        : init === 'random'
          ? randomData(elems, seed++)
          : init === 'labels'
            ? Uint32Array.from({ length: elems }, (_, i) => i % 7)
            : new Float32Array(elems);
    const b = gpu.upload(data, c.name);
    owned.push(b);
    return b;
  };
  const { record, check } = c.setup(alloc);
  const [ms] = await medianGpuMs(gpu, [{ name: c.name, record }], { iterations: opts.iterations ?? 10, time: opts.time ?? 200 });
  const sample = await gpu.readF32(check, Math.min(1024, check.size / 4));
  if (!sample.every(Number.isFinite)) throw new Error(`${c.name}: non-finite output`);
  await gpu.sync();
  for (const b of owned) b.destroy();
  return { name: c.name, shape: c.shape, ms: ms!, gflops: c.flops / (ms! * 1e6), gbps: c.bytes / (ms! * 1e6) };
}

/** Runs every op's benchmark at each batch size (default 8 and 32), then Adam once. */
export async function benchOps(gpu: Gpu, opts: OpsBenchOptions = {}): Promise<OpBenchResult[]> {
  const results: OpBenchResult[] = [];
  const all = [...(opts.batches ?? [8, 32]).flatMap((b) => cases(b)), adamCase()];
  for (const c of all) {
    const r = await measure(gpu, c, opts);
    opts.onResult?.(r);
    results.push(r);
  }
  return results;
}

function formatRow(r: OpBenchResult): string {
  return `${r.name.padEnd(38)} ${r.shape.padEnd(30)} ${r.ms.toFixed(3).padStart(9)} ms ${r.gflops.toFixed(2).padStart(8)} GFLOP/s ${r.gbps.toFixed(2).padStart(8)} GB/s`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const json = args.includes('--json');
  const gpu = await getGpu();
  if (!json) console.log(`adapter: ${gpu.summary.description || gpu.summary.device} (${gpu.summary.backend}), timestamps: ${gpu.features.timestamps}`);
  const results = await benchOps(gpu, {
    batches: value('--batch')?.split(',').map(Number),
    iterations: value('--iterations') ? Number(value('--iterations')) : undefined,
    onResult: json ? undefined : (r) => console.log(formatRow(r)),
  });
  if (json) console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}
