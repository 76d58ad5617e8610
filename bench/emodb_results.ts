// The EmoDB benchmark of docs/RESULTS.md, one command per table, on either engine:
//
//   npx tsx bench/emodb_results.ts random    [--engine ours|torch] [recipe options] [--seeds 0,1,2,3,4]
//   npx tsx bench/emodb_results.ts loso      [--engine ours|torch] [recipe options]
//   npx tsx bench/emodb_results.ts ablation  [--engine ours|torch] [recipe options] [--seeds …]
//
// Recipe options (defaults: the report's recipe — focal loss, one augmented copy,
// oversampling, batch 32, lr 1e-3, Keras' batch-norm momentum 0.99, EarlyStopping
// patience 10 with up to 300 epochs, so early stopping ends each run): --width F
// --batch N --lr X --bn-momentum X --augment N --loss focal|ce --no-oversample
// --patience N --lr-patience N --bn-recalibrate N --epochs N;
// --only a,b runs only the named rows of a table (the summary still lists every finished one);
// --summary runs nothing and tabulates what has finished; --archive DIR also copies each
// tabulated run's row.json, history.json and config.json (no weights) to DIR in the
// same layout, so that `--summary --out DIR` tabulates them again anywhere; --help prints this.
//
// random: a stratified 70/15/15 split per seed.
// loso: leave-one-speaker-out over EmoDB's speakers (validation: 15% of the
//       training speakers' clips, stratified), per-speaker and mean accuracy.
// ablation: the recipe, and the recipe with one setting flipped: augmentation (one
//       copy ↔ none), loss (focal ↔ cross-entropy), oversampling (on ↔ off), batch-norm
//       recalibration before validation (16 batches ↔ none, Keras' moving averages).
//
// --engine torch trains the same network in PyTorch (bench/torch_peer.py) from
// identical inputs: our initial weights for the seed, our front end's features, our
// augmented copies, our oversampled order, our per-epoch batch order, the same
// callbacks and recalibration; only dropout masks come from PyTorch's generator.
// Its best weights are saved in our checkpoint format, evaluated on the test split by
// the same report code.
//
// Runs go to runs/emodb/<table>/<engine>/<name>; a finished run leaves row.json, so
// the same command after an interruption continues where it stopped: either engine's
// run from its last completed epoch (ours from last.safetensors, PyTorch from last.pt,
// RNG included, so both repeat what the uninterrupted run would have done). The summary
// (runs/emodb/<table>.md, .json and <table>-<row>.svg, validation curves of both
// engines) covers every finished run of the same settings, both engines side by side.
import { parseArgs } from 'node:util';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { getGpu, type Gpu } from '../src/kernels/gpu.js';
import { scanDataArgs, CLASS_NAMES } from '../src/data/sources.js';
import { leaveOneSpeakerOut, splitItems } from '../src/data/split.js';
import { DEFAULT_RUN, loadTrainedModel, prepareRunData, runConfigOf, trainRun, type RunOptions } from '../src/train/run.js';
import type { LabelledFile } from '../src/train/prepare.js';
import { epochOrder, evaluateDataset } from '../src/train/fit.js';
import { Engine as TrainEngine } from '../src/train/engine.js';
import { Ser3dCnn } from '../src/model/ser3dcnn.js';
import { saveModel } from '../src/model/checkpoint.js';
import { readSafetensors, writeSafetensors } from '../src/model/safetensors.js';
import { classificationReport, confusionMatrixSvg, formatClassificationReport, formatConfusionMatrix, reportJson, trainingCurvesSvg, type CurvePoint } from '../src/train/report.js';
import { runTorchPeer, torchVersion } from './torch_peer.js';
import { compareCurvesSvg } from './curves.js';

type Engine = 'ours' | 'torch';
const ENGINES: Engine[] = ['ours', 'torch'];

/** The usage: this file's opening comment. */
function usage(): string {
  const lines = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return lines.slice(0, end).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
}

let parsed: ReturnType<typeof parseOptions>;
try {
  parsed = parseOptions();
} catch (e) {
  console.error(`${(e as Error).message}\n\n${usage()}`);
  process.exit(2);
}
if (parsed.values.help) {
  console.log(usage());
  process.exit(0);
}
const { values, positionals } = parsed;

function parseOptions() {
  return parseArgs({
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      engine: { type: 'string', default: 'ours' },
      width: { type: 'string', default: '1' },
      epochs: { type: 'string', default: '300' },
      seeds: { type: 'string', default: '0,1,2,3,4' },
      data: { type: 'string', default: '../shared/data/emodb-original' },
      out: { type: 'string', default: 'runs/emodb' },
      batch: { type: 'string', default: String(DEFAULT_RUN.batch) },
      lr: { type: 'string', default: String(DEFAULT_RUN.lr) },
      'bn-momentum': { type: 'string', default: String(DEFAULT_RUN.bnMomentum) },
      'bn-recalibrate': { type: 'string', default: String(DEFAULT_RUN.recalibrateBatches) },
      augment: { type: 'string', default: String(DEFAULT_RUN.augmentCopies) },
      loss: { type: 'string', default: DEFAULT_RUN.loss },
      'no-oversample': { type: 'boolean', default: false },
      patience: { type: 'string', default: String(DEFAULT_RUN.callbacks.earlyStoppingPatience) },
      'lr-patience': { type: 'string', default: String(DEFAULT_RUN.callbacks.reduceLrPatience) },
      only: { type: 'string' },
      summary: { type: 'boolean', default: false },
      archive: { type: 'string' },
    },
  });
}
const table = positionals[0] ?? 'random';
/** Bad input: the reason and the usage, exit status 2. */
function fail(message: string): never {
  console.error(`${message}\n\n${usage()}`);
  process.exit(2);
}
if (!['random', 'loso', 'ablation'].includes(table)) fail(`unknown table '${table}' (random, loso, ablation)`);
const engine = values.engine as Engine;
if (!ENGINES.includes(engine)) fail(`--engine: ours or torch, not '${values.engine}'`);
if (values.loss !== 'focal' && values.loss !== 'ce') fail(`--loss: focal or ce, not '${values.loss}'`);
const flag = (name: keyof typeof values): number => {
  const v = Number(values[name]);
  if (values[name] === '' || !Number.isFinite(v) || v < 0) fail(`--${name}: not a non-negative number: '${values[name]}'`);
  return v;
};
const numbers = {
  width: flag('width'),
  epochs: flag('epochs'),
  batch: flag('batch'),
  lr: flag('lr'),
  bnMomentum: flag('bn-momentum'),
  recalibrateBatches: flag('bn-recalibrate'),
  augmentCopies: flag('augment'),
  patience: flag('patience'),
  lrPatience: flag('lr-patience'),
};
const seeds = values.seeds!.split(',').map(Number);
if (seeds.some((v) => !Number.isInteger(v) || v < 0)) fail(`--seeds: a comma-separated list of non-negative integers, not '${values.seeds}'`);
const outRoot = resolve(values.out!);
const archiveRoot = values.archive === undefined ? null : resolve(values.archive);
if (archiveRoot === outRoot) fail('--archive: a folder other than --out');

const base: Omit<RunOptions, 'out'> = {
  ...DEFAULT_RUN,
  classes: CLASS_NAMES,
  width: numbers.width,
  epochs: numbers.epochs,
  batch: numbers.batch,
  lr: numbers.lr,
  bnMomentum: numbers.bnMomentum,
  recalibrateBatches: numbers.recalibrateBatches,
  augmentCopies: numbers.augmentCopies,
  loss: values.loss as 'focal' | 'ce',
  oversample: !values['no-oversample'],
  callbacks: { ...DEFAULT_RUN.callbacks, earlyStoppingPatience: numbers.patience, reduceLrPatience: numbers.lrPatience },
  quiet: true,
  cacheDir: '.cache/features',
};

interface Row {
  name: string;
  engine: Engine;
  accuracy: number;
  macro_f1: number;
  epochs: number;
  best_epoch: number;
  seconds: number;
  /** PyTorch rows: our engine's test predictions with PyTorch's best weights, against PyTorch's own. */
  cross_check?: { same_predictions: number; clips: number };
}

/** The runs of a table: name and the options that differ from the recipe. */
/** A planned run: its row name, its options, and its folder under --out (table/name unless another table's run serves). */
interface Planned {
  name: string;
  o: Partial<RunOptions>;
  folder?: { table: string; name: string };
}

function plan(items: LabelledFile[]): Planned[] {
  const runs: Planned[] = [];
  if (table === 'random') for (const seed of seeds) runs.push({ name: `seed${seed}`, o: { seed } });
  if (table === 'ablation') {
    // Each ablation flips one setting of the recipe, whichever way the recipe has it.
    for (const seed of seeds) {
      // The recipe itself is the random table's row of the same seed (same settings), not run twice.
      runs.push({ name: `recipe-seed${seed}`, o: { seed }, folder: { table: 'random', name: `seed${seed}` } });
      runs.push(base.augmentCopies > 0 ? { name: `no-augment-seed${seed}`, o: { seed, augmentCopies: 0 } } : { name: `augment-seed${seed}`, o: { seed, augmentCopies: 1 } });
      runs.push(base.loss === 'focal' ? { name: `cross-entropy-seed${seed}`, o: { seed, loss: 'ce' } } : { name: `focal-seed${seed}`, o: { seed, loss: 'focal' } });
      runs.push(base.oversample ? { name: `no-oversample-seed${seed}`, o: { seed, oversample: false } } : { name: `oversample-seed${seed}`, o: { seed, oversample: true } });
      runs.push(base.recalibrateBatches > 0 ? { name: `no-recalibration-seed${seed}`, o: { seed, recalibrateBatches: 0 } } : { name: `recalibration-seed${seed}`, o: { seed, recalibrateBatches: 16 } });
    }
  }
  if (table === 'loso') {
    for (const fold of leaveOneSpeakerOut(items)) {
      const inner = splitItems(fold.train, { seed: 0, ratios: [85, 15, 0] });
      runs.push({ name: `speaker-${fold.speaker.replace(':', '')}`, o: { presplit: { train: inner.train, val: inner.val, test: fold.test }, seed: 0 } });
    }
  }
  return runs;
}

/** The settings a finished run must share with the ones asked for now to be reused or tabulated. */
function settingsDiff(dir: string, o: Omit<RunOptions, 'out'>): string[] {
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown> & { loss?: { kind?: string } };
  const want: Record<string, unknown> = {
    width: o.width, epochs: o.epochs, batch: o.batch, lr: o.lr, bnMomentum: o.bnMomentum, seed: o.seed, augmentCopies: o.augmentCopies,
    oversample: o.oversample, recalibrateBatches: o.recalibrateBatches, callbacks: o.callbacks,
  };
  const diff = Object.keys(want).filter((k) => JSON.stringify(c[k]) !== JSON.stringify(want[k]));
  if (c.loss?.kind !== o.loss) diff.push('loss');
  return diff;
}

function readRow(dir: string, o: Omit<RunOptions, 'out'>): Row | null {
  if (!existsSync(join(dir, 'row.json'))) return null;
  return settingsDiff(dir, o).length === 0 ? (JSON.parse(readFileSync(join(dir, 'row.json'), 'utf8')) as Row) : null;
}

/** Our engine: `ser train`'s trainRun. */
async function runOurs(gpu: Gpu, items: LabelledFile[], o: RunOptions): Promise<Omit<Row, 'name' | 'engine'>> {
  const r = await trainRun(gpu, items, o);
  const best = r.fit.history.reduce((b, e) => (e.val_accuracy > b.val_accuracy ? e : b), r.fit.history[0]!);
  return { accuracy: r.test.accuracy, macro_f1: r.test.macro_f1, epochs: r.fit.history.length, best_epoch: best.epoch + 1, seconds: r.seconds };
}

/**
 * Our engine's inference with the weights PyTorch trained: the test clips of a finished
 * PyTorch run through our forward pass, predictions compared with PyTorch's own. The
 * parity test checks 20 steps on a small network; this checks the trained, full-input one.
 */
async function crossCheck(gpu: Gpu, dir: string): Promise<{ same_predictions: number; clips: number }> {
  const { model } = await loadTrainedModel(gpu, join(dir, 'best.safetensors'));
  const data = (await readSafetensors(join(dir, 'data.safetensors'))).tensors;
  const theirs = (await readSafetensors(join(dir, 'test_pred.safetensors'))).tensors.pred!.data as Int32Array;
  const x = data.test_x!.data as Float32Array;
  const y = Uint32Array.from(data.test_y!.data as Int32Array);
  const classes = model.config.classes.length;
  const engine = new TrainEngine(gpu, model, 8, new Float32Array(classes).fill(1), 0);
  const ours = await evaluateDataset(engine, { x, y }, 8);
  return { same_predictions: ours.pred.filter((p, i) => p === theirs[i]).length, clips: y.length };
}

/** PyTorch: the same inputs written for bench/torch_peer.py, its predictions reported by our report code. */
async function runTorch(gpu: Gpu, items: LabelledFile[], o: RunOptions): Promise<Omit<Row, 'name' | 'engine'>> {
  const t0 = performance.now();
  mkdirSync(o.out, { recursive: true });
  const rd = await prepareRunData(gpu, items, o);
  const model = new Ser3dCnn(gpu, rd.modelConfig, o.seed);
  await saveModel(gpu, model, join(o.out, 'init.safetensors'));
  const { train, val, test } = rd.data;
  const testData = test.y.length > 0 ? test : val;
  const n = train.y.length;
  const order = new Int32Array(o.epochs * n);
  for (let e = 0; e < o.epochs; e++) order.set(epochOrder(o.seed, e, n), e * n);
  const sample = rd.modelConfig.input;
  const i32 = (y: Uint32Array): Int32Array => Int32Array.from(y);
  await writeSafetensors(join(o.out, 'data.safetensors'), {
    train_x: { dtype: 'F32', shape: [n, ...sample], data: train.x },
    train_y: { dtype: 'I32', shape: [n], data: i32(train.y) },
    val_x: { dtype: 'F32', shape: [val.y.length, ...sample], data: val.x },
    val_y: { dtype: 'I32', shape: [val.y.length], data: i32(val.y) },
    test_x: { dtype: 'F32', shape: [testData.y.length, ...sample], data: testData.x },
    test_y: { dtype: 'I32', shape: [testData.y.length], data: i32(testData.y) },
    alpha: { dtype: 'F32', shape: [rd.alpha.length], data: rd.alpha },
    order: { dtype: 'I32', shape: [o.epochs, n], data: order },
  });
  const config = runConfigOf(o, rd);
  writeFileSync(join(o.out, 'config.json'), JSON.stringify({ ...config, engine: 'torch', torch: torchVersion().version }, null, 1));
  writeFileSync(
    join(o.out, 'peer.json'),
    JSON.stringify({ bnMomentum: o.bnMomentum, gamma: rd.gamma, lr: o.lr, batch: o.batch, epochs: o.epochs, recalibrateBatches: o.recalibrateBatches, callbacks: o.callbacks, seed: o.seed }),
  );
  await runTorchPeer('train', o.out, (line) => {
    const e = JSON.parse(line) as { epoch: number; val_accuracy: number; loss: number };
    process.stderr.write(`\r  PyTorch epoch ${e.epoch + 1}: loss ${e.loss.toFixed(3)}, val_accuracy ${e.val_accuracy.toFixed(3)}   `);
  });
  process.stderr.write('\n');
  const history = JSON.parse(readFileSync(join(o.out, 'history.json'), 'utf8')) as (CurvePoint & { epoch: number })[];
  writeFileSync(join(o.out, 'curves.svg'), trainingCurvesSvg(history));
  const pred = (await readSafetensors(join(o.out, 'test_pred.safetensors'))).tensors.pred!.data as Int32Array;
  const report = classificationReport(testData.y, pred, o.classes);
  writeFileSync(join(o.out, 'test_report.txt'), `${formatClassificationReport(report)}\n${formatConfusionMatrix(report.confusion, o.classes)}\n`);
  writeFileSync(join(o.out, 'test_report.json'), JSON.stringify(reportJson(report)));
  writeFileSync(join(o.out, 'confusion.svg'), confusionMatrixSvg(report.confusion, o.classes, 'Test split (PyTorch)'));
  const best = history.reduce((b, e) => (e.val_accuracy > b.val_accuracy ? e : b), history[0]!);
  return { accuracy: report.accuracy, macro_f1: report.macro.f1, epochs: history.length, best_epoch: best.epoch + 1, seconds: (performance.now() - t0) / 1000 };
}

/** A run's folder: <out>/<table>/<engine>/<name>, or the other table's run that serves as this row. */
function runDir(e: Engine, name: string, folder?: { table: string; name: string }): string {
  return join(outRoot, folder?.table ?? table, e, folder?.name ?? name);
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]): number => (xs.length > 1 ? Math.sqrt((mean(xs.map((x) => (x - mean(xs)) ** 2)) * xs.length) / (xs.length - 1)) : 0);
const pm = (xs: number[], scale: number, digits: number): string =>
  xs.length === 0 ? '—' : xs.length > 1 ? `${(scale * mean(xs)).toFixed(digits)} ± ${(scale * sd(xs)).toFixed(digits)}` : (scale * xs[0]!).toFixed(digits);

const started = Date.now();
const { items } = await scanDataArgs([`emodb=${resolve(values.data!)}`]);
const runs = plan(items);
const rowOf = (name: string): string => name.replace(/-?seed\d+$/, '') || 'recipe';
const only = values.only?.split(',');
{
  const known = [...new Set(runs.map((r) => rowOf(r.name)))];
  const unknown = (only ?? []).filter((r) => !known.includes(r));
  if (unknown.length) fail(`--only ${unknown.join(',')}: no such row of the ${table} table (its rows: ${known.join(', ')})`);
}
if (engine === 'torch' && !torchVersion().version) throw new Error(torchVersion().reason);
const gpu = await getGpu();
{
  for (const { name, o, folder } of values.summary ? [] : runs) {
    if (only && !only.includes(rowOf(name))) continue;
    const dir = runDir(engine, name, folder);
    const opts = { ...base, ...o };
    if (existsSync(join(dir, 'row.json'))) {
      const diff = settingsDiff(dir, opts);
      if (diff.length) throw new Error(`${dir} finished with other settings (${diff.join(', ')}); choose another --out or remove it`);
      console.log(`${readFileSync(join(dir, 'row.json'), 'utf8')} (finished earlier)`);
      continue;
    }
    // An interrupted run of ours continues from its last checkpoint (fit's --resume), repeating the uninterrupted run.
    const resume = engine === 'ours' && existsSync(join(dir, 'state.json'));
    if (resume) console.log(`${dir}: resuming from its last checkpoint`);
    const t = await (engine === 'ours' ? runOurs : runTorch)(gpu, items, { ...opts, out: dir, resume });
    const row: Row = { name, engine, ...t };
    writeFileSync(join(dir, 'row.json'), JSON.stringify(row));
    console.log(JSON.stringify(row));
  }
}

// The summary: every finished run of these settings, both engines.
for (const t of [table]) {
  const rows: Row[] = [];
  const histories = new Map<string, { engine: Engine; val: number[] }[]>();
  for (const e of ENGINES) {
    for (const { name, o, folder } of runs) {
      const dir = runDir(e, name, folder);
      const row = readRow(dir, { ...base, ...o });
      if (!row) continue;
      if (e === 'torch' && !row.cross_check) {
        row.cross_check = await crossCheck(gpu, dir);
        writeFileSync(join(dir, 'row.json'), JSON.stringify(row));
      }
      rows.push(row);
      if (archiveRoot) {
        const to = join(archiveRoot, relative(outRoot, dir));
        mkdirSync(to, { recursive: true });
        for (const f of ['row.json', 'history.json', 'config.json']) copyFileSync(join(dir, f), join(to, f));
      }
      const key = row.name.replace(/-?seed\d+$/, '') || 'recipe';
      const h = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as { val_accuracy: number }[];
      histories.set(key, [...(histories.get(key) ?? []), { engine: e, val: h.map((x) => x.val_accuracy) }]);
    }
  }
  if (rows.length === 0) continue;
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = t === 'loso' ? r.name : r.name.replace(/-?seed\d+$/, '') || 'recipe';
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const md = ['| run | ours: accuracy | PyTorch: accuracy | ours − PyTorch | ours: macro F1 | PyTorch: macro F1 | epochs (ours / PyTorch) | wall time (ours / PyTorch) |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  const line = (key: string, rs: Row[]): string => {
    const by = (e: Engine) => rs.filter((r) => r.engine === e);
    const acc = (e: Engine) => by(e).map((r) => r.accuracy);
    // Over the runs both engines finished (same seed or speaker), so a missing run on one side does not skew it.
    const paired = by('ours').flatMap((o) => by('torch').filter((p) => p.name === o.name).map((p) => o.accuracy - p.accuracy));
    const partial = paired.length < by('ours').length || paired.length < by('torch').length;
    const diff = paired.length ? `${(100 * mean(paired)).toFixed(1)} pt${partial ? ` (${paired.length} paired)` : ''}` : '—';
    const cnt = (e: Engine) => (by(e).length ? ` (${by(e).length})` : '');
    const ep = (e: Engine) => (by(e).length ? mean(by(e).map((r) => r.epochs)).toFixed(0) : '—');
    const sec = (e: Engine) => (by(e).length ? `${mean(by(e).map((r) => r.seconds)).toFixed(0)} s` : '—');
    const pct = (e: Engine) => (acc(e).length ? `${pm(acc(e), 100, 1)} %${cnt(e)}` : '—');
    return `| ${key} | ${pct('ours')} | ${pct('torch')} | ${diff} | ${pm(by('ours').map((r) => r.macro_f1), 1, 3)} | ${pm(by('torch').map((r) => r.macro_f1), 1, 3)} | ${ep('ours')} / ${ep('torch')} | ${sec('ours')} / ${sec('torch')} |`;
  };
  for (const [key, rs] of groups) md.push(line(key, rs));
  if (t === 'loso') {
    const speakers = (row: string): string => row.replace(/\((\d+)\)/g, (_, n: string) => `(${n} speaker${n === '1' ? '' : 's'})`);
    md.push(speakers(line('**mean over speakers**', rows)));
    // With some folds run on one engine only, the same summary over the speakers both ran.
    const both = rows.filter((r) => rows.some((o) => o.name === r.name && o.engine !== r.engine));
    if (both.length && both.length < rows.length) md.push(speakers(line('**mean over the speakers both engines ran**', both)));
  }
  for (const [key, hs] of histories) {
    if (t === 'loso') continue;
    writeFileSync(join(outRoot, `${t}-${key}.svg`), compareCurvesSvg(`EmoDB ${t}, ${key}: validation accuracy per epoch`, [
      { label: 'ours (WebGPU)', color: '#1f77b4', runs: hs.filter((h) => h.engine === 'ours').map((h) => h.val) },
      { label: 'PyTorch', color: '#d62728', runs: hs.filter((h) => h.engine === 'torch').map((h) => h.val) },
    ]));
  }
  if (t === 'loso') {
    writeFileSync(join(outRoot, `${t}-curves.svg`), compareCurvesSvg(`EmoDB ${t}: validation accuracy per epoch, one line per held-out speaker`, [
      { label: 'ours (WebGPU)', color: '#1f77b4', runs: [...histories.values()].flat().filter((h) => h.engine === 'ours').map((h) => h.val) },
      { label: 'PyTorch', color: '#d62728', runs: [...histories.values()].flat().filter((h) => h.engine === 'torch').map((h) => h.val) },
    ]));
  }
  const checks = rows.filter((r) => r.cross_check);
  if (checks.length) {
    const same = checks.reduce((a, r) => a + r.cross_check!.same_predictions, 0);
    const clips = checks.reduce((a, r) => a + r.cross_check!.clips, 0);
    md.push('', `Our engine's inference with PyTorch's trained weights gives the same prediction as PyTorch on ${same} of ${clips} test clips (${checks.length} PyTorch runs).`);
  }
  const header =
    `EmoDB (${resolve(values.data!)}), ${t}, width ${base.width}, batch ${base.batch}, lr ${base.lr}, ${base.loss} loss, ` +
    `${base.augmentCopies} augmented cop${base.augmentCopies === 1 ? 'y' : 'ies'}, ${base.oversample ? '' : 'no '}oversampling, batch-norm momentum ${base.bnMomentum}, ` +
    `recalibration ${base.recalibrateBatches} batches, EarlyStopping patience ${base.callbacks.earlyStoppingPatience} (at most ${base.epochs} epochs); ` +
    `ours on ${gpu.summary.description}, PyTorch ${torchVersion().version ?? '(not installed)'} on the CPU\n\n`;
  writeFileSync(join(outRoot, `${t}.json`), JSON.stringify({ table: t, recipe: base, adapter: gpu.summary.description, rows }, null, 1));
  writeFileSync(join(outRoot, `${t}.md`), header + md.join('\n') + '\n');
  console.log(header + md.join('\n'));
}
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
