// `ser bench`: speed of the exact network — a training step (forward, backward,
// Adam and the metrics readback, as Engine.trainStep runs it) and an inference
// forward (Engine.predictBatch) — optionally against the same network in a peer
// framework (TensorFlow.js on the same WebGPU adapter, or PyTorch on the CPU), and
// the per-kernel benchmarks.
//
// Timing: tinybench drives each measurement with a time budget of 0, so it runs
// exactly the warm-up and timed iteration counts asked for (a TF.js step takes
// tens of seconds on a CPU adapter, where a minimum-time budget is impractical),
// and the median (p50) of the timed iterations is reported. One iteration is
// wall clock around one awaited call, which returns only after the GPU queue has
// finished and the step's small metrics buffer has been read back: a step is one
// command buffer whose end is only observable that way.
import { Bench } from 'tinybench';
import { getGpu, type Gpu } from '../kernels/gpu.js';
import { Ser3dCnn, type ModelConfig } from '../model/ser3dcnn.js';
import { Engine } from '../train/engine.js';
import { CLASS_NAMES } from '../data/sources.js';
import { num, parseCommand, UsageError, type CommandDef, type OptionDef } from './args.js';
import { Rng } from '../util/rng.js';
import type { TfjsPeer } from '../../bench/tfjs_peer.js';
import type { TorchTimings } from '../../bench/torch_peer.js';
import { tuneOnFirstUse } from './tune.js';
import { mib } from '../kernels/memory.js';
import { profilerOf, type Profiler } from '../kernels/profile.js';

const BENCH = {
  usage: 'Usage: ser bench [--json] [--batch 8,32] [--width F] [--iterations N] [--compare tfjs|torch] [--kernels 8,32|none]\n       ser bench --frontend DIR [--clips N] [--json]',
  about: `Times a training step (forward + backward + Adam + metrics readback) and an
inference forward of the 3D CNN at each batch size: median ms per step after
warm-up, samples/s, GFLOP/s (a training step counts 3× the forward FLOPs) and the
peak GPU memory of the training step.
With --frontend, times the GPU mel front end instead on the WAV files of DIR,
against the float64 CPU reference and, where Python has librosa (SER_PYTHON),
librosa (bench/frontend.bench.ts).`,
  options: {
    batch: { kind: 'string', arg: 'LIST', help: 'batch sizes, comma-separated', default: '8' },
    width: { kind: 'number', arg: 'F', help: 'channel/unit multiplier of the network', default: 1, min: 0.001, max: 8 },
    input: { kind: 'string', arg: 'D,H,W', help: 'input timesteps, mel bands, frames per step', default: '3,128,60' },
    iterations: { kind: 'int', arg: 'N', help: 'timed iterations of our steps', default: 5, min: 1 },
    warmup: { kind: 'int', arg: 'N', help: 'warm-up iterations of our steps', default: 1, min: 0 },
    compare: {
      kind: 'choice',
      arg: 'PEER',
      help: 'also time the same network in a peer and report peer_ms / ours_ms:\ntfjs: TensorFlow.js, WebGPU backend, same adapter;\ntorch: PyTorch on the CPU (Debian\'s python3-torch, every core;\nbench/torch_peer.py)',
      values: ['tfjs', 'torch', 'none'],
      default: 'none',
    },
    'peer-iterations': { kind: 'string', arg: 'N', help: "timed iterations of the peer's steps, after 1 warm-up\n(TF.js 2, PyTorch 5)" },
    kernels: {
      kind: 'string',
      arg: 'LIST|none',
      help: "batch sizes at which every kernel is timed at the report's\nfull-size layer shapes (bench/conv3d.bench.ts, bench/<op>.bench.ts),\nwhatever --width and --input say; none skips them",
      default: '8,32',
    },
    frontend: { kind: 'string', arg: 'DIR', help: 'time the mel front end on the .wav files of DIR instead' },
    clips: { kind: 'int', arg: 'N', help: 'with --frontend: the first N clips only (0: all)', default: 0, min: 0 },
    json: { kind: 'flag', help: 'one JSON object on stdout (progress goes to stderr)' },
  },
} as const satisfies CommandDef<Record<string, OptionDef>>;

/** Largest difference of the two forwards' softmax outputs (same weights, same input) accepted before timing. */
const PEER_PROB_ATOL = 1e-3;

export interface BenchOptions {
  batches: number[];
  width: number;
  /** [timesteps, mel bands, frames per step]; the channel axis is 1. */
  input: [number, number, number];
  iterations: number;
  warmup: number;
  compare: 'tfjs' | 'torch' | null;
  peerIterations: number;
  /** Batch sizes of the per-kernel benchmarks (empty: none). */
  kernels: number[];
  /** Progress lines (to stderr in the command). */
  log?: (line: string) => void;
}

export interface StepFigures {
  batch: number;
  ours_ms: number;
  ours_samples_per_s: number;
  ours_gflops: number;
  peer_ms: number | null;
  peer_samples_per_s: number | null;
  peer_gflops: number | null;
  /** peer_ms / ours_ms: how many times faster ours is; below 1, the peer is faster (null without --compare). */
  ratio: number | null;
}

export interface ForwardFigures extends StepFigures {
  /** Max |p_ours − p_peer| of the first forward, before either network trained (null without --compare). */
  peer_max_prob_diff: number | null;
}

export interface KernelFigure {
  name: string;
  shape: string;
  ms: number;
  gflops: number;
}

export interface BatchFigures {
  batch: number;
  train_step: StepFigures;
  forward: ForwardFigures;
  /**
   * Most bytes of GPU buffers alive at once during the training-step measurement:
   * what our allocator holds (pooled buffers at their power-of-two size class, weights,
   * Adam's moments, staging), counted by Gpu.createBuffer, not a figure from the driver.
   */
  train_step_peak_bytes: number;
  /** Why the peer could not run at this batch size (its figures are then null). */
  peer_error: string | null;
}

export interface BenchReport {
  adapter: string;
  backend: string;
  timing: string;
  width: number;
  input: number[];
  iterations: number;
  warmup: number;
  /** The peer framework and where it ran (null without --compare). */
  peer: string | null;
  peer_iterations: number | null;
  /** The first batch size's figures. */
  train_step: StepFigures;
  forward: ForwardFigures;
  /** Every batch size, in the order asked for. */
  batches: BatchFigures[];
  kernels: KernelFigure[];
}

/**
 * Median ms of `fn` over exactly `iterations` runs after `warmup` runs. With
 * `profiler` (SER_PROFILE=1), only the timed runs are profiled.
 */
async function medianMs(name: string, fn: () => Promise<unknown>, iterations: number, warmup: number, profiler: Profiler | null = null): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const bench = new Bench({ iterations, time: 0, warmup: false });
  bench.add(name, async () => {
    await fn();
  });
  if (profiler) profiler.paused = false;
  try {
    await bench.run();
  } finally {
    if (profiler) profiler.paused = true;
  }
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`${name}: benchmark ${result.state}${'error' in result ? `: ${result.error.message}` : ''}`);
  return result.latency.p50;
}

/** Inputs uniform in [-1, 1) from the project's seeded generator, and labels cycling through the classes. */
function syntheticBatch(n: number, sampleSize: number, classes: number): { x: Float32Array; y: Uint32Array } {
  const rng = new Rng(12345);
  const x = Float32Array.from({ length: n * sampleSize }, () => rng.uniform(-1, 1));
  return { x, y: Uint32Array.from({ length: n }, (_, i) => i % classes) };
}

function figures(batch: number, flops: number, ours: number, peer: number | null): StepFigures {
  const perS = (ms: number): number => batch / (ms / 1000);
  const gflops = (ms: number): number => flops / (ms * 1e6);
  return {
    batch,
    ours_ms: ours,
    ours_samples_per_s: perS(ours),
    ours_gflops: gflops(ours),
    peer_ms: peer,
    peer_samples_per_s: peer === null ? null : perS(peer),
    peer_gflops: peer === null ? null : gflops(peer),
    ratio: peer === null ? null : peer / ours,
  };
}

async function benchBatch(gpu: Gpu, o: BenchOptions, batch: number): Promise<BatchFigures & { peerName: string | null }> {
  const log = o.log ?? (() => {});
  const config: ModelConfig = { classes: [...CLASS_NAMES], input: [...o.input, 1], width: o.width };
  const classes = config.classes.length;
  const alpha = new Float32Array(classes).fill(1);
  const gamma = 2;
  const model = new Ser3dCnn(gpu, config, 0);
  const engine = new Engine(gpu, model, batch, alpha, gamma);
  const { x, y } = syntheticBatch(batch, engine.sampleSize, classes);
  const fwdFlops = model.forwardFlopsPerSample() * batch;

  // The peer copies the initial weights, so the first forwards must agree. A peer
  // that fails (TF.js binds every tensor whole, and a CPU adapter's binding limit
  // refuses the largest at batch 32) is reported, not fatal: ours are still timed.
  let tfjs: TfjsPeer | null = null;
  let torch: TorchTimings | null = null;
  let peerName: string | null = null;
  let peerError: string | null = null;
  const oursFirst = await engine.predictBatch(x, y, batch);
  let maxDiff: number | null = null;
  const agree = (theirs: Float32Array, name: string): number => {
    let d = 0;
    for (let i = 0; i < theirs.length; i++) d = Math.max(d, Math.abs(theirs[i]! - oursFirst.probs[i]!));
    if (!(d <= PEER_PROB_ATOL)) throw new Error(`${name} and our forward disagree by ${d} (> ${PEER_PROB_ATOL})`);
    log(`batch ${batch}: forward outputs agree to ${d.toExponential(2)} (tolerance ${PEER_PROB_ATOL})`);
    return d;
  };
  try {
    if (o.compare === 'tfjs') {
      tfjs = await (await import('../../bench/tfjs_peer.js')).TfjsPeer.fromModel(gpu, model, alpha, gamma);
      peerName = 'TensorFlow.js (WebGPU backend, same adapter)';
      log(`batch ${batch}: TF.js first forward (compiles its shaders)…`);
      maxDiff = agree(await tfjs.predict(x, batch), 'TF.js');
    } else if (o.compare === 'torch') {
      // PyTorch checks its first forward and times itself in one call, on the initial weights.
      log(`batch ${batch}: PyTorch, forward and train step ×${o.peerIterations} after 1 warm-up…`);
      torch = await (await import('../../bench/torch_peer.js')).torchTimings(gpu, model, { x, y, alpha, gamma }, { iterations: o.peerIterations, warmup: 1 });
      peerName = `PyTorch ${torch.version} on the CPU, ${torch.threads} thread${torch.threads === 1 ? '' : 's'}`;
      maxDiff = agree(torch.probs, 'PyTorch');
    }
  } catch (e) {
    peerError = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    log(`batch ${batch}: the peer failed, not timed: ${peerError}`);
    tfjs?.dispose();
    tfjs = null;
    torch = null;
  }

  log(`batch ${batch}: ours, forward ×${o.iterations}…`);
  const profiler = profilerOf(gpu);
  const oursFwd = await medianMs('forward', () => engine.predictBatch(x, y, batch), o.iterations, Math.max(0, o.warmup - 1), profiler);
  log(`batch ${batch}: ours, train step ×${o.iterations}…`);
  gpu.memory.resetPeak();
  const oursTrain = await medianMs('train step', () => engine.trainStep(x, y), o.iterations, o.warmup, profiler);
  const peakBytes = gpu.memory.peak;
  log(`batch ${batch}: peak GPU memory of the training step ${mib(peakBytes)} MiB`);
  let peerFwd: number | null = torch?.forwardMs ?? null;
  let peerTrain: number | null = torch?.trainMs ?? null;
  if (tfjs) {
    const peer = tfjs;
    log(`batch ${batch}: TF.js, forward ×${o.peerIterations}…`);
    peerFwd = await medianMs('tfjs forward', () => peer.predict(x, batch), o.peerIterations, 0);
    log(`batch ${batch}: TF.js, train step ×${o.peerIterations} after 1 warm-up…`);
    peerTrain = await medianMs('tfjs train step', () => peer.trainStep(x, y), o.peerIterations, 1);
    peer.dispose();
  }
  // The next batch size's peak must not include this one's weights and pooled activations.
  engine.dispose();
  model.dispose();
  gpu.pool.clear();
  return {
    batch,
    train_step: figures(batch, 3 * fwdFlops, oursTrain, peerTrain),
    forward: { ...figures(batch, fwdFlops, oursFwd, peerFwd), peer_max_prob_diff: maxDiff },
    train_step_peak_bytes: peakBytes,
    peer_error: peerError,
    peerName,
  };
}

/** conv3d (bench/conv3d.bench.ts) and every other op (bench/ops.bench.ts) at the report's shapes. */
async function benchKernels(gpu: Gpu, o: BenchOptions): Promise<KernelFigure[]> {
  const { conv3dBenchEntries } = await import('../../bench/conv3d.bench.js');
  const { benchOps } = await import('../../bench/ops.bench.js');
  const log = o.log ?? (() => {});
  const out: KernelFigure[] = [];
  for (const batch of o.kernels) out.push(...(await conv3dBenchEntries(gpu, batch, { iterations: o.iterations, log: (l) => log(`kernel ${l}`) })));
  const ops = await benchOps(gpu, { batches: o.kernels, iterations: o.iterations, onResult: (r) => log(`kernel ${r.name} ${r.shape}: ${r.ms.toFixed(3)} ms`) });
  out.push(...ops);
  return out.map(({ name, shape, ms, gflops }) => ({ name, shape, ms, gflops }));
}

/** Measures every batch size, then the kernels if asked. */
export async function runBench(gpu: Gpu, o: BenchOptions): Promise<BenchReport> {
  const batches: BatchFigures[] = [];
  let peer: string | null = null;
  for (const b of o.batches) {
    const { peerName, ...figs } = await benchBatch(gpu, o, b);
    peer ??= peerName;
    batches.push(figs);
  }
  const kernels = o.kernels.length > 0 ? await benchKernels(gpu, o) : [];
  const s = gpu.summary;
  return {
    adapter: s.description || s.device || s.vendor,
    backend: s.backend,
    timing:
      `median of ${o.iterations} timed iterations after ${o.warmup} warm-up` +
      (o.compare ? ` (${o.compare === 'tfjs' ? 'TF.js' : 'PyTorch'}: ${o.peerIterations} after 1)` : '') +
      '; wall clock around each awaited step, i.e. queue completion + metrics readback (tinybench, fixed iteration counts)',
    width: o.width,
    input: [...o.input, 1],
    iterations: o.iterations,
    warmup: o.warmup,
    peer,
    peer_iterations: o.compare ? o.peerIterations : null,
    train_step: batches[0]!.train_step,
    forward: batches[0]!.forward,
    batches,
    kernels,
  };
}

const f = (v: number | null, digits: number, width: number): string => (v === null ? '—' : v.toFixed(digits)).padStart(width);

export function formatReport(r: BenchReport): string {
  const lines = [
    `adapter ${r.adapter} (${r.backend}); network width ${r.width}, input [${r.input.join(',')}]`,
    r.timing,
    '',
    ...(r.peer ? [`peer: ${r.peer}`] : []),
    '',
    `${'step'.padEnd(22)} ${'batch'.padStart(5)} ${'ours ms'.padStart(10)} ${'samples/s'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'peer ms'.padStart(10)} ${'samples/s'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'peer/ours'.padStart(10)}`,
  ];
  for (const b of r.batches) {
    for (const [label, s] of [
      ['train step (f+b+Adam)', b.train_step],
      ['forward (inference)', b.forward],
    ] as const) {
      lines.push(
        `${label.padEnd(22)} ${String(s.batch).padStart(5)} ${f(s.ours_ms, 1, 10)} ${f(s.ours_samples_per_s, 2, 10)} ${f(s.ours_gflops, 2, 8)} ` +
          `${f(s.peer_ms, 1, 10)} ${f(s.peer_samples_per_s, 2, 10)} ${f(s.peer_gflops, 2, 8)} ${s.ratio === null ? '—'.padStart(10) : `${s.ratio.toFixed(2)}×`.padStart(10)}`,
      );
    }
  }
  lines.push('', 'peak GPU memory of a training step (buffers our allocator holds, pooled in power-of-two size classes; not a driver figure):');
  for (const b of r.batches) lines.push(`  batch ${String(b.batch).padStart(4)}: ${mib(b.train_step_peak_bytes).padStart(9)} MiB`);
  for (const b of r.batches) if (b.peer_error) lines.push(`the peer at batch ${b.batch} could not run: ${b.peer_error}`);
  if (r.kernels.length > 0) {
    lines.push('', `${'kernel'.padEnd(40)} ${'shape'.padEnd(32)} ${'ms'.padStart(9)} ${'GFLOP/s'.padStart(8)}`);
    for (const k of r.kernels) lines.push(`${k.name.padEnd(40)} ${k.shape.padEnd(32)} ${k.ms.toFixed(3).padStart(9)} ${k.gflops.toFixed(2).padStart(8)}`);
  }
  return lines.join('\n');
}

/** A comma-separated list of positive integers (the option's default is a list too). */
function parseList(v: string, name: string, length?: number): number[] {
  const parts = v.split(',');
  if (length !== undefined && parts.length !== length) throw new UsageError(`--${name} needs ${length} comma-separated values, got '${String(v)}'`);
  return parts.map((p) => num(p.trim(), name, 0, { integer: true, min: 1 }));
}

/** Four 1×2×2 poolings halve H and W four times, so both must be at least 16. */
function inputShape(v: string): [number, number, number] {
  const [d, h, w] = parseList(v, 'input', 3) as [number, number, number];
  if (h < 16 || w < 16) throw new UsageError(`--input mel bands and frames must be at least 16 (four 2×2 poolings), got ${h},${w}`);
  return [d, h, w];
}

export async function bench(argv: string[]): Promise<number> {
  const args = parseCommand(argv, BENCH);
  if (!args) return 0;
  const v = args.values;
  if (v.frontend !== undefined) return benchFrontend(v.frontend, v.clips, v.json);
  const options: BenchOptions = {
    batches: parseList(v.batch, 'batch'),
    width: v.width,
    input: inputShape(v.input),
    iterations: v.iterations,
    warmup: v.warmup,
    compare: v.compare === 'none' ? null : v.compare,
    peerIterations: num(v['peer-iterations'], 'peer-iterations', v.compare === 'torch' ? 5 : 2, { integer: true, min: 1 }),
    kernels: v.kernels === 'none' ? [] : parseList(v.kernels, 'kernels'),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const gpu = await getGpu();
  // SER_PROFILE=1: the per-shader table covers our timed steps, not tuning, compiles or warm-ups.
  const profiler = profilerOf(gpu);
  if (profiler) {
    profiler.paused = true;
    profiler.scope = `our timed steps only: ${options.iterations} forwards and ${options.iterations} training steps per batch size`;
  }
  for (const batch of options.batches) await tuneOnFirstUse(gpu, [...options.input, 1], options.width, batch);
  const report = await runBench(gpu, options);
  console.log(v.json ? JSON.stringify(report) : formatReport(report));
  return 0;
}

async function benchFrontend(dir: string, clips: number, json: boolean): Promise<number> {
  const { frontendBench, formatFrontendReport } = await import('../../bench/frontend.bench.js');
  const r = await frontendBench(await getGpu(), { dir, clipLimit: clips || undefined, note: (line) => process.stderr.write(`${line}\n`) });
  console.log(json ? JSON.stringify(r) : formatFrontendReport(r));
  return 0;
}
