// What an operation costs on this adapter, in multiply-adds: the measurements behind
// the conv3d kernels' design (docs/PERFORMANCE.md, "What an operation costs on
// lavapipe"). shaders/driver_probe.wgsl runs a loop whose every step performs K
// independent operations of one kind; timing K = 16 and K = 32 separates the cost of
// one operation (the slope) from that of a loop step (the intercept). Everything is
// reported relative to one multiply-add measured in the same run, so the figures
// describe the driver rather than how busy the machine was. The same run times the
// fixed cost of a dispatch: recordings of 32 and 256 dispatches of a one-workgroup
// kernel (shaders/fill.wgsl), whose slope is what each further dispatch in a
// recording adds (Dawn's barriers between dispatches included).
//
//   npx tsx bench/driver_costs.bench.ts [--json] [--rounds 7]
//
// Needs subgroups (the shuffle probe); reports the adapter's subgroup size.
import { getGpu, type Gpu } from '../src/kernels/gpu.js';
import { timeRecorded, type KernelSpec } from '../src/kernels/kernel.js';
import { fill } from '../src/kernels/fill.js';
import { isMain } from './op_harness.js';

const DRIVER_PROBE: KernelSpec = {
  shader: 'driver_probe',
  params: [['iterations', 'u32'], ['mask', 'u32'], ['pad0', 'u32'], ['pad1', 'u32'], ...Array.from({ length: 32 }, (_, i) => [`table${i}`, 'f32'] as const)],
  inputs: ['data'],
  outputs: ['out', 'sink', 'sink4'],
};

export const PROBES = [
  { kind: 0, name: 'fma', what: 'one multiply-add of a chain on registers (the unit)' },
  { kind: 1, name: 'accumulator update', what: 'what one fma into an accumulator costs beyond the fma itself' },
  { kind: 2, name: 'load, per lane', what: 'an f32 storage load whose address differs across lanes' },
  { kind: 3, name: 'load, shared', what: 'an f32 storage load whose address is the same for the whole workgroup' },
  { kind: 4, name: 'vec4 load, per lane', what: 'a vec4 storage load whose address differs across lanes (with its dot product)' },
  { kind: 5, name: 'subgroup shuffle', what: 'subgroupShuffle of an f32 within a group of 8 lanes' },
  { kind: 6, name: 'store, per lane', what: 'an f32 storage store whose address differs across lanes' },
  { kind: 7, name: 'vec4 store, per lane', what: 'a vec4 storage store whose address differs across lanes' },
  { kind: 8, name: 'uniform load, shared', what: 'an f32 load from a uniform buffer at an index made of a loop counter and the workgroup id (the same for every lane)' },
  { kind: 9, name: 'vec4 uniform load', what: 'a vec4 load from a uniform buffer at such an index (with its dot product)' },
] as const;

const WORKGROUPS = 256;
const LOOP_STEPS = 1024;
const DATA_VEC4 = 1 << 16;
const K_LOW = 16;
const K_HIGH = 32;
/** The shader's K_MAX: store slots per invocation. */
const K_MAX = 64;

export interface DriverCost {
  name: string;
  what: string;
  /** ns of one operation per invocation (all invocations of the dispatch together over the adapter). */
  ns: number;
  /** The same in multiply-adds of this run. */
  fmas: number;
}

export interface DriverCosts {
  adapter: string;
  subgroupSize: number | null;
  costs: DriverCost[];
  /** One loop step (a dynamic loop's compare, branch and exit-mask bookkeeping), in multiply-adds. */
  loopStepFmas: number;
  /** What one more dispatch of a one-workgroup kernel adds to a recording, in µs. */
  dispatchUs: number;
  /** The same in multiply-adds of the whole adapter at the fma probe's rate: the arithmetic a dispatch's fixed cost could have bought. */
  dispatchFmas: number;
}

/** The uniform table that KIND 8 reads (params.table in the shader). */
const TABLE = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`table${i}`, (i + 1) / 32]));

const DISPATCHES_LOW = 32;
const DISPATCHES_HIGH = 256;
/** Buffers the dispatch probe's fills cycle through, so consecutive dispatches touch different buffers as a network's do. */
const DISPATCH_BUFFERS = 8;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Measures every probe in `rounds` rounds; each round times every probe at both K once,
 * back to back, and yields one slope per probe. A busy machine slows some rounds, so
 * the median over rounds is reported.
 */
export async function measureDriverCosts(gpu: Gpu, rounds = 7): Promise<DriverCosts> {
  if (!gpu.features.subgroups) throw new Error('driver_costs: the shuffle probe needs the subgroups feature, which this adapter lacks');
  const data = gpu.upload(Float32Array.from({ length: 4 * DATA_VEC4 }, (_, i) => ((i * 2654435761) % 1000) / 1000), 'probe data');
  const out = gpu.createBuffer({ label: 'probe out', size: WORKGROUPS * 64 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const sink = gpu.createBuffer({ label: 'probe f32 stores', size: WORKGROUPS * 64 * K_MAX * 4, usage: GPUBufferUsage.STORAGE });
  const sink4 = gpu.createBuffer({ label: 'probe vec4 stores', size: WORKGROUPS * 64 * K_MAX * 16, usage: GPUBufferUsage.STORAGE });
  const fillBuffers = Array.from({ length: DISPATCH_BUFFERS }, (_, i) => gpu.createBuffer({ label: `probe dispatch ${i}`, size: 256, usage: GPUBufferUsage.STORAGE }));
  const invocationSteps = WORKGROUPS * 64 * LOOP_STEPS;
  const time = (kind: number, k: number): Promise<number> =>
    timeRecorded(gpu, (r) =>
      r.dispatch(DRIVER_PROBE, {
        params: { iterations: LOOP_STEPS, mask: DATA_VEC4 - 1, pad0: 0, pad1: 0, ...TABLE },
        buffers: { data, out, sink, sink4 },
        constants: { KIND: kind, K: k },
        workgroups: [WORKGROUPS, 1, 1],
      }),
    );
  try {
    for (const p of PROBES) for (const k of [K_LOW, K_HIGH]) await time(p.kind, k); // compiles the pipelines
    const slopes: number[][] = PROBES.map(() => []);
    const intercepts: number[] = [];
    const dispatchSlopes: number[] = [];
    const fills = (count: number): Promise<number> =>
      timeRecorded(gpu, (r) => {
        for (let i = 0; i < count; i++) fill(r, fillBuffers[i % DISPATCH_BUFFERS]!, 64, i);
      });
    await fills(DISPATCHES_LOW);
    for (let round = 0; round < rounds; round++) {
      const low = await fills(DISPATCHES_LOW);
      const high = await fills(DISPATCHES_HIGH);
      dispatchSlopes.push(((high - low) * 1e3) / (DISPATCHES_HIGH - DISPATCHES_LOW));
      for (const [i, p] of PROBES.entries()) {
        const low = await time(p.kind, K_LOW);
        const high = await time(p.kind, K_HIGH);
        const perOp = ((high - low) * 1e6) / ((K_HIGH - K_LOW) * invocationSteps);
        slopes[i]!.push(perOp);
        if (p.kind === 0) intercepts.push((low * 1e6) / invocationSteps - K_LOW * perOp);
      }
    }
    const slope = slopes.map(median);
    const fma = slope[0]! / 4;
    const update = slope[1]!;
    // Kind 1 is one fma into an accumulator; kinds 2–9 each contain one such update.
    const costs = PROBES.map((p, i) => {
      const ns = i === 0 ? fma : i === 1 ? update - fma : slope[i]! - update;
      return { name: p.name, what: p.what, ns, fmas: ns / fma };
    });
    const info = gpu.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number };
    const dispatchUs = median(dispatchSlopes);
    return {
      adapter: gpu.summary.description || gpu.summary.device,
      subgroupSize: info.subgroupMinSize ?? null,
      costs,
      loopStepFmas: median(intercepts) / fma,
      dispatchUs,
      dispatchFmas: (dispatchUs * 1e3) / fma,
    };
  } finally {
    for (const b of [data, out, sink, sink4, ...fillBuffers]) b.destroy();
  }
}

export function formatDriverCosts(c: DriverCosts): string {
  const lines = [`adapter: ${c.adapter}, subgroup size ${c.subgroupSize ?? 'unknown'}`, '', `${'operation'.padEnd(22)} ${'multiply-adds'.padStart(13)}   ns per invocation`];
  for (const x of c.costs) lines.push(`${x.name.padEnd(22)} ${x.fmas.toFixed(1).padStart(13)}   ${x.ns.toFixed(4)}`);
  lines.push(`${'loop step'.padEnd(22)} ${c.loopStepFmas.toFixed(1).padStart(13)}`);
  lines.push('', `one more dispatch in a recording: ${c.dispatchUs.toFixed(1)} µs, the time the adapter takes for ${(c.dispatchFmas / 1e6).toFixed(2)} M multiply-adds`);
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--rounds');
  const gpu = await getGpu();
  const costs = await measureDriverCosts(gpu, i >= 0 ? Number(args[i + 1]) : 7);
  console.log(args.includes('--json') ? JSON.stringify(costs, null, 2) : formatDriverCosts(costs));
  process.exit(0);
}
