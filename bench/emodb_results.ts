// The EmoDB benchmark of docs/RESULTS.md, one command per table:
//
//   npx tsx bench/emodb_results.ts random    [--width F] [--epochs N] [--seeds 0,1,2,3,4]
//   npx tsx bench/emodb_results.ts loso      [--width F] [--epochs N]
//   npx tsx bench/emodb_results.ts ablation  [--width F] [--epochs N] [--seeds …]
// and, for CPU-sized runs, [--batch N] [--lr X] [--bn-momentum X] [--augment N]
// (defaults: the report's recipe — batch 32, lr 1e-3, one augmented copy — with
// Keras' batch-norm momentum 0.99).
//
// random: the report's recipe on a stratified 70/15/15 split, several seeds.
// loso: leave-one-speaker-out over EmoDB's speakers (validation: 15% of the
//       training speakers' clips, stratified), per-speaker and mean accuracy.
// ablation: the random split without augmentation, with cross-entropy instead of
//       focal loss, and without oversampling.
// Each run's folder goes to runs/emodb/<table>/<name>; the summary (JSON and a
// Markdown table) to runs/emodb/<table>.json and .md. A finished run leaves its row
// in <name>/row.json, so running the same command again after an interruption
// continues with the runs that did not finish instead of repeating hours of work.
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { scanDataArgs, CLASS_NAMES } from '../src/data/sources.js';
import { leaveOneSpeakerOut, splitItems } from '../src/data/split.js';
import { DEFAULT_RUN, trainRun, type RunOptions } from '../src/train/run.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    width: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '100' },
    seeds: { type: 'string', default: '0,1,2,3,4' },
    data: { type: 'string', default: '../shared/data/emodb' },
    out: { type: 'string', default: 'runs/emodb' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: String(DEFAULT_RUN.lr) },
    'bn-momentum': { type: 'string', default: String(DEFAULT_RUN.bnMomentum) },
    augment: { type: 'string', default: String(DEFAULT_RUN.augmentCopies) },
  },
});
const table = positionals[0] ?? 'random';
const width = Number(values.width);
const epochs = Number(values.epochs);
const seeds = values.seeds!.split(',').map(Number);
const out = resolve(values.out!, table);
mkdirSync(out, { recursive: true });

const gpu = await getGpu();
const { items } = await scanDataArgs([`emodb=${resolve(values.data!)}`]);
const recipe = { batch: Number(values.batch), lr: Number(values.lr), bnMomentum: Number(values['bn-momentum']), augmentCopies: Number(values.augment) };
for (const [k, v] of Object.entries({ width, epochs, ...recipe })) if (!Number.isFinite(v) || v < 0) throw new Error(`--${k}: not a valid number`);
const base: Omit<RunOptions, 'out'> = { ...DEFAULT_RUN, classes: CLASS_NAMES, width, epochs, ...recipe, quiet: true, cacheDir: '.cache/features' };
const started = Date.now();

interface Row {
  name: string;
  accuracy: number;
  macro_f1: number;
  epochs: number;
  seconds: number;
}
const rows: Row[] = [];

/** A finished run is reused only if the config.json it wrote records the settings asked for now. */
function checkSameSettings(dir: string, o: Omit<RunOptions, 'out'>): void {
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown> & { loss?: { kind?: string } };
  const want: Record<string, unknown> = {
    width: o.width, epochs: o.epochs, batch: o.batch, bnMomentum: o.bnMomentum, seed: o.seed, augmentCopies: o.augmentCopies, oversample: o.oversample,
  };
  const diff = Object.keys(want).filter((k) => c[k] !== want[k]);
  if (c.loss?.kind !== o.loss) diff.push('loss');
  if (diff.length > 0) throw new Error(`${dir} finished with other settings (${diff.join(', ')}); choose another --out or remove it`);
}

async function one(name: string, o: Partial<RunOptions>): Promise<void> {
  const rowFile = join(out, name, 'row.json');
  if (existsSync(rowFile)) {
    checkSameSettings(join(out, name), { ...base, ...o });
    const row = JSON.parse(readFileSync(rowFile, 'utf8')) as Row;
    rows.push(row);
    console.log(`${JSON.stringify(row)} (finished earlier)`);
    return;
  }
  const r = await trainRun(gpu, items, { ...base, ...o, out: join(out, name) });
  const row = { name, accuracy: r.test.accuracy, macro_f1: r.test.macro_f1, epochs: r.fit.history.length, seconds: r.seconds };
  rows.push(row);
  writeFileSync(rowFile, JSON.stringify(row));
  console.log(JSON.stringify(row));
}

if (table === 'random') {
  for (const seed of seeds) await one(`seed${seed}`, { seed });
} else if (table === 'ablation') {
  for (const seed of seeds) {
    await one(`no-augment-seed${seed}`, { seed, augmentCopies: 0 });
    await one(`cross-entropy-seed${seed}`, { seed, loss: 'ce' });
    await one(`no-oversample-seed${seed}`, { seed, oversample: false });
  }
} else if (table === 'loso') {
  for (const fold of leaveOneSpeakerOut(items)) {
    const inner = splitItems(fold.train, { seed: 0, ratios: [85, 15, 0] });
    await one(`speaker-${fold.speaker.replace(':', '')}`, { presplit: { train: inner.train, val: inner.val, test: fold.test }, seed: 0 });
  }
} else {
  throw new Error(`unknown table '${table}' (random, loso, ablation)`);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)) * (xs.length / Math.max(1, xs.length - 1)));
const groups = new Map<string, Row[]>();
for (const r of rows) {
  const key = r.name.replace(/-?seed\d+$/, '') || 'report recipe';
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
const md = [`| run | accuracy | macro F1 | epochs | wall time |`, `| --- | --- | --- | --- | --- |`];
for (const [key, rs] of groups) {
  const acc = rs.map((r) => r.accuracy);
  const f1 = rs.map((r) => r.macro_f1);
  // Accuracy in percent, F1 as a fraction (as the test reports print them).
  const pm = (xs: number[], scale: number, digits: number): string =>
    xs.length > 1 ? `${(scale * mean(xs)).toFixed(digits)} ± ${(scale * sd(xs)).toFixed(digits)}` : (scale * xs[0]!).toFixed(digits);
  md.push(`| ${key} (${rs.length} run${rs.length > 1 ? 's' : ''}) | ${pm(acc, 100, 1)} % | ${pm(f1, 1, 3)} | ${mean(rs.map((r) => r.epochs)).toFixed(0)} | ${mean(rs.map((r) => r.seconds)).toFixed(0)} s |`);
}
if (table === 'loso') md.push(`| **mean over speakers** | ${(100 * mean(rows.map((r) => r.accuracy))).toFixed(1)} % | ${mean(rows.map((r) => r.macro_f1)).toFixed(3)} | | |`);
const wall = (Date.now() - started) / 1000;
const header =
  `EmoDB, ${table}, width ${width}, up to ${epochs} epochs, batch ${recipe.batch}, lr ${recipe.lr}, batch-norm momentum ${recipe.bnMomentum}, ` +
  `${recipe.augmentCopies} augmented cop${recipe.augmentCopies === 1 ? 'y' : 'ies'} per training clip; adapter: ${gpu.summary.description}; ` +
  `the runs took ${rows.reduce((a, r) => a + r.seconds, 0).toFixed(0)} s in all (this invocation ${wall.toFixed(0)} s)\n\n`;
writeFileSync(join(out, '..', `${table}.json`), JSON.stringify({ table, width, epochs, ...recipe, adapter: gpu.summary.description, seconds: wall, rows }, null, 1));
writeFileSync(join(out, '..', `${table}.md`), header + md.join('\n') + '\n');
console.log(header + md.join('\n'));
