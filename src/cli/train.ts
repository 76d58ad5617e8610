// `ser train`: the report's recipe on any mix of corpora.
import { resolve } from 'node:path';
import { getGpu } from '../kernels/gpu.js';
import { CLASS_NAMES, scanDataArgs } from '../data/sources.js';
import { DEFAULT_RUN, modelInputShape, trainRun } from '../train/run.js';
import { tuneOnFirstUse } from './tune.js';
import { parseCommand, UsageError, type CommandDef, type OptionDef } from './args.js';

const d = DEFAULT_RUN;

const TRAIN = {
  usage: 'Usage: ser train --data KIND=DIR [--data KIND=DIR …] --out RUN [options]',
  about: `Trains the report's 3D CNN: stratified 70/15/15 split (or by speaker),
augmentation and oversampling of the training part, focal loss, Adam,
EarlyStopping, ModelCheckpoint and ReduceLROnPlateau. Writes RUN/best.safetensors,
RUN/last.safetensors, RUN/config.json, RUN/history.json, RUN/curves.svg and the
test-split report (RUN/test_report.txt, .json, RUN/confusion.svg).`,
  options: {
    data: { kind: 'string', arg: 'KIND=DIR', help: 'corpus: ravdess, tess, savee, emodb, synth (repeatable)', multiple: true },
    out: { kind: 'string', arg: 'RUN', help: 'run folder' },
    epochs: { kind: 'int', arg: 'N', help: 'maximum epochs', default: d.epochs, min: 1 },
    batch: { kind: 'int', arg: 'N', help: 'batch size', default: d.batch, min: 1 },
    width: { kind: 'number', arg: 'F', help: 'channel/unit multiplier of the network', default: d.width, min: 0.01 },
    seed: { kind: 'int', arg: 'N', help: 'seed of split, augmentation, init, shuffling, dropout', default: d.seed, min: 0 },
    split: { kind: 'choice', arg: 'MODE', help: 'random | speaker', values: ['random', 'speaker'], default: d.split },
    loss: { kind: 'choice', arg: 'KIND', help: 'focal (gamma 2, balanced alpha) | ce', values: ['focal', 'ce'], default: d.loss },
    gamma: { kind: 'number', arg: 'G', help: 'focal-loss gamma', default: d.gamma, min: 0 },
    lr: { kind: 'number', arg: 'LR', help: 'initial learning rate', default: d.lr, min: 0 },
    augment: { kind: 'int', arg: 'N', help: 'augmented copies of each training clip, 0 for none', default: d.augmentCopies, min: 0 },
    'no-oversample': { kind: 'flag', help: 'do not balance classes by oversampling' },
    patience: { kind: 'int', arg: 'N', help: 'EarlyStopping patience', default: d.callbacks.earlyStoppingPatience, min: 1 },
    'lr-patience': { kind: 'int', arg: 'N', help: 'ReduceLROnPlateau patience', default: d.callbacks.reduceLrPatience, min: 1 },
    'bn-momentum': { kind: 'number', arg: 'M', help: 'batch-norm running-statistics momentum (Keras\'); lower for short runs', default: d.bnMomentum, min: 0, max: 0.9999 },
    'bn-recalibrate': {
      kind: 'int',
      arg: 'N',
      help: 're-estimate batch-norm statistics from N training batches without\ndropout before each validation (0 = Keras\' moving averages only)',
      default: d.recalibrateBatches,
      min: 0,
    },
    'no-cache': { kind: 'flag', help: 'do not use the feature cache (.cache/features)' },
    resume: { kind: 'flag', help: 'continue an interrupted run from its last completed epoch' },
    quiet: { kind: 'flag', help: 'no progress output' },
    json: { kind: 'flag', help: 'print the test report as JSON on the last line' },
  },
} as const satisfies CommandDef<Record<string, OptionDef>>;

export async function train(argv: string[]): Promise<number> {
  // Every option is checked here, before the scan and the GPU, so a typo costs nothing.
  const args = parseCommand(argv, TRAIN);
  if (!args) return 0;
  const v = args.values;
  if (!v.out) throw new UsageError(`--out RUN is required\n\n${args.help}`);
  const settings = {
    epochs: v.epochs,
    batch: v.batch,
    bnMomentum: v['bn-momentum'],
    recalibrateBatches: v['bn-recalibrate'],
    width: v.width,
    seed: v.seed,
    split: v.split,
    loss: v.loss,
    gamma: v.gamma,
    lr: v.lr,
    augmentCopies: v.augment,
    oversample: !v['no-oversample'],
    callbacks: { ...d.callbacks, earlyStoppingPatience: v.patience, reduceLrPatience: v['lr-patience'] },
  };
  const { items, skipped, summary } = await scanDataArgs(v.data);
  const quiet = Boolean(v.quiet);
  if (!quiet) console.error(summary);
  if (skipped.length && !quiet) console.error(`${skipped.length} files skipped during the scan (listed above)`);
  if (items.length < 10) throw new Error(`only ${items.length} labelled files found; need at least 10 to train`);
  const gpu = await getGpu();
  await tuneOnFirstUse(gpu, modelInputShape(d.frontend), v.width, v.batch);
  const result = await trainRun(gpu, items, {
    ...d,
    ...settings,
    out: resolve(String(v.out)),
    classes: CLASS_NAMES,
    cacheDir: v['no-cache'] ? null : d.cacheDir,
    resume: Boolean(v.resume),
    quiet,
    extraConfig: { data: v.data },
  });
  if (result.skipped.length && !quiet) {
    console.error(`${result.skipped.length} files could not be decoded and were skipped:`);
    for (const s of result.skipped) console.error(`  ${s.path}: ${s.reason}`);
  }
  console.log(`\nTest split (${result.test.support} clips):\n${result.testText}`);
  console.log(`run folder: ${resolve(String(v.out))}  (${result.seconds.toFixed(0)} s, ${result.fit.history.length} epochs)`);
  if (v.json) console.log(JSON.stringify({ ...result.test, seconds: result.seconds, epochs: result.fit.history.length }));
  return 0;
}
