// `ser tune`: chooses the conv3d kernel and blocking of every layer of the network by
// measurement on this adapter (src/kernels/conv3d_tune.ts) and caches the choices
// (src/kernels/tune-cache.ts); `ser train` and `ser bench` do the same on first use.
import { getGpu, type Gpu } from '../kernels/gpu.js';
import { conv3dTuneKey, type Conv3dShape } from '../kernels/conv3d_shape.js';
import { adapterKey, tuneCachePath, tuneNetwork, tuningEnabled } from '../kernels/tune-cache.js';
import type { Conv3dTuneResult } from '../kernels/conv3d_tune.js';
import { convLayerShapes } from '../model/architecture.js';
import { ProgressBar } from '../util/progress.js';
import { num, parseCommand, UsageError, type CommandDef, type OptionDef } from './args.js';

/** The batch `ser train` and `ser bench` tune at on first use (at most). */
const TUNE_BATCH = 8;

const TUNE = {
  usage: 'Usage: ser tune [--width LIST] [--batch N] [--input D,H,W] [--force] [--repeats N] [--json]',
  about: `Times every candidate conv3d kernel and blocking (8-lane subgroup kernels with
several channel blocks and positions per invocation, the rows kernel for one input
channel, Winograd F(2×2, 3×3) and F(4×4, 3×3), the portable direct kernels,
workgroup-memory tiled implicit GEMMs) for each convolution of the network, forward,
backward-input and backward-weight, after checking each against the portable kernel
on random data;
caches the fastest per layer shape for this adapter and driver in
${'$'}SER_TUNE_CACHE (default ~/.cache/ser-webgpu/conv3d-tuning.json).
Later runs use the cached choices; ser train and ser bench tune missing shapes on
first use. SER_TUNE=0 turns tuning and the cache off.`,
  options: {
    width: { kind: 'string', arg: 'LIST', help: 'network widths, comma-separated', default: '1' },
    batch: { kind: 'int', arg: 'N', help: 'batch size the candidates are timed at', default: 8, min: 1 },
    input: { kind: 'string', arg: 'D,H,W', help: 'input shape (mel bands × frames per window)', default: '3,128,60' },
    repeats: { kind: 'int', arg: 'N', help: 'timed runs per candidate after one warm-up (median)', default: 3, min: 1 },
    force: { kind: 'flag', help: 'tune shapes that already have a cached choice' },
    json: { kind: 'flag', help: 'machine-readable output' },
  },
} as const satisfies CommandDef<Record<string, OptionDef>>;

/**
 * Tunes the convolutions of the network at `width` and `batch` that have no cached
 * choice yet, with a progress line on stderr (nothing to do: silent). Used on first
 * use by `ser train` and `ser bench`; a no-op with SER_TUNE=0.
 */
export async function tuneOnFirstUse(gpu: Gpu, input: readonly [number, number, number, number], width: number, batch: number): Promise<Conv3dTuneResult[]> {
  if (!tuningEnabled()) return [];
  let bar: ProgressBar | null = null;
  // Timed at batch 8 at most: the choice is filed without the batch, and larger batches only make tuning slower.
  return tuneNetwork(gpu, convLayerShapes(input, width, Math.min(batch, TUNE_BATCH)), {
    // The network's input needs no gradient.
    skipBackwardInput: [0],
    onProgress: (done, total, what) => {
      if (!bar) process.stderr.write(`ser: choosing conv3d kernels for this adapter by measurement (once; ser tune --help)\n`);
      bar ??= new ProgressBar('tuning conv3d', total, 'shapes');
      bar.update(done, { now: what });
    },
  });
}

function formatResults(results: Conv3dTuneResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const s = r.shape;
    lines.push(`${r.key}  (batch ${s.n})`);
    for (const c of [...r.candidates].sort((a, b) => (a.ms ?? Infinity) - (b.ms ?? Infinity))) {
      const mark = c.label === r.winner.label ? '→' : ' ';
      const dflt = c.label === r.baseline.label ? '  (default)' : '';
      lines.push(`  ${mark} ${c.label.padEnd(20)} ${c.ms === null ? `failed: ${c.error}` : `${c.ms.toFixed(2).padStart(9)} ms`}${dflt}`);
    }
    if (r.baseline.ms !== null) lines.push(`    chosen ${r.winner.label}: ${(r.baseline.ms / r.winner.ms).toFixed(2)}× the default's speed`);
  }
  return lines.join('\n');
}

export async function tune(argv: string[]): Promise<number> {
  const args = parseCommand(argv, TUNE);
  if (!args) return 0;
  const v = args.values;
  if (!tuningEnabled()) throw new UsageError('SER_TUNE=0 turns tuning off; unset it to tune');
  const widths = v.width.split(',').map((w) => num(w.trim(), 'width', 1, { min: 0.001, max: 8 }));
  const dims = v.input.split(',').map((p) => num(p.trim(), 'input', 0, { integer: true, min: 1 }));
  if (dims.length !== 3) throw new UsageError(`--input needs 3 comma-separated values, got '${v.input}'`);
  const [d, h, w] = dims as [number, number, number];
  if (h < 16 || w < 16) throw new UsageError(`--input mel bands and frames must be at least 16 (four 2×2 poolings), got ${h},${w}`);
  const gpu = await getGpu();
  const all: Conv3dTuneResult[] = [];
  const shapes = new Map<string, Conv3dShape>();
  for (const width of widths) for (const s of convLayerShapes([d, h, w, 1], width, v.batch)) shapes.set(conv3dTuneKey('forward', s), s);
  const list = [...shapes.values()];
  const firstLayers = list.map((s, i) => (s.cin === 1 ? i : -1)).filter((i) => i >= 0);
  let bar: ProgressBar | null = null;
  const results = await tuneNetwork(gpu, list, {
    force: v.force,
    repeats: v.repeats,
    skipBackwardInput: firstLayers,
    onProgress: (done, total, what) => {
      bar ??= new ProgressBar('tuning conv3d', total, 'shapes', v.json);
      bar.update(done, { now: what });
    },
  });
  all.push(...results);
  if (v.json) {
    console.log(JSON.stringify({ adapter: adapterKey(gpu), cache: tuneCachePath(), results: all }));
  } else {
    console.log(`adapter ${adapterKey(gpu)}\ncache ${tuneCachePath()}`);
    console.log(all.length === 0 ? 'every shape already has a cached choice (--force tunes them again)' : formatResults(all));
  }
  return 0;
}
