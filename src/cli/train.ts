// `ser train`: the report's recipe on any mix of corpora.
import { resolve } from 'node:path';
import { getGpu } from '../kernels/gpu.js';
import { CLASS_NAMES, scanDataArgs } from '../data/sources.js';
import { DEFAULT_RUN, trainRun } from '../train/run.js';
import { choice, num, parse, UsageError } from './args.js';

const HELP = `Usage: ser train --data KIND=DIR [--data KIND=DIR …] --out RUN [options]

Trains the report's 3D CNN: stratified 70/15/15 split (or by speaker),
augmentation and oversampling of the training part, focal loss, Adam,
EarlyStopping, ModelCheckpoint and ReduceLROnPlateau. Writes RUN/best.safetensors,
RUN/last.safetensors, RUN/config.json, RUN/history.json, RUN/curves.svg and the
test-split report (RUN/test_report.txt, .json, RUN/confusion.svg).

  --data KIND=DIR     corpus: ravdess, tess, savee, emodb, synth (repeatable)
  --out RUN           run folder
  --epochs N          maximum epochs (100)
  --batch N           batch size (32)
  --width F           channel/unit multiplier of the network (1)
  --seed N            seed of split, augmentation, init, shuffling, dropout (0)
  --split MODE        random | speaker (random)
  --loss KIND         focal | ce (focal, gamma 2, balanced alpha)
  --gamma G           focal-loss gamma (2)
  --lr LR             initial learning rate (0.001)
  --augment N         augmented copies of each training clip (1; 0 = none)
  --no-oversample     do not balance classes by oversampling
  --patience N        EarlyStopping patience (10)
  --lr-patience N     ReduceLROnPlateau patience (5)
  --bn-momentum M     batch-norm running-statistics momentum (0.99, Keras'); lower for short runs
  --bn-recalibrate N  re-estimate batch-norm statistics from N training batches without
                      dropout before each validation (16; 0 = Keras' moving averages only)
  --no-cache          do not use the feature cache (.cache/features)
  --resume            continue an interrupted run from its last completed epoch
  --quiet             no progress output
  --json              print the test report as JSON on the last line`;

export async function train(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    {
      data: { type: 'string', multiple: true },
      out: { type: 'string' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      width: { type: 'string' },
      seed: { type: 'string' },
      split: { type: 'string' },
      loss: { type: 'string' },
      gamma: { type: 'string' },
      lr: { type: 'string' },
      augment: { type: 'string' },
      'no-oversample': { type: 'boolean' },
      patience: { type: 'string' },
      'lr-patience': { type: 'string' },
      'bn-momentum': { type: 'string' },
      'bn-recalibrate': { type: 'string' },
      'no-cache': { type: 'boolean' },
      resume: { type: 'boolean' },
      quiet: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    HELP,
  );
  if (!args) return 0;
  const v = args.values;
  if (!v.out) throw new UsageError(`--out RUN is required\n\n${HELP}`);
  const d = DEFAULT_RUN;
  // Every option is checked before the scan and the GPU, so a typo costs nothing.
  const settings = {
    epochs: num(v.epochs, 'epochs', d.epochs, { integer: true, min: 1 }),
    batch: num(v.batch, 'batch', d.batch, { integer: true, min: 1 }),
    bnMomentum: num(v['bn-momentum'], 'bn-momentum', d.bnMomentum, { min: 0, max: 0.9999 }),
    recalibrateBatches: num(v['bn-recalibrate'], 'bn-recalibrate', d.recalibrateBatches, { integer: true, min: 0 }),
    width: num(v.width, 'width', d.width, { min: 0.01 }),
    seed: num(v.seed, 'seed', d.seed, { integer: true, min: 0 }),
    split: choice(v.split, 'split', ['random', 'speaker'] as const, 'random'),
    loss: choice(v.loss, 'loss', ['focal', 'ce'] as const, 'focal'),
    gamma: num(v.gamma, 'gamma', d.gamma, { min: 0 }),
    lr: num(v.lr, 'lr', d.lr, { min: 0 }),
    augmentCopies: num(v.augment, 'augment', d.augmentCopies, { integer: true, min: 0 }),
    oversample: !v['no-oversample'],
    callbacks: {
      ...d.callbacks,
      earlyStoppingPatience: num(v.patience, 'patience', d.callbacks.earlyStoppingPatience, { integer: true, min: 1 }),
      reduceLrPatience: num(v['lr-patience'], 'lr-patience', d.callbacks.reduceLrPatience, { integer: true, min: 1 }),
    },
  };
  const { items, skipped, summary } = await scanDataArgs((v.data as string[] | undefined) ?? []);
  const quiet = Boolean(v.quiet);
  if (!quiet) console.error(summary);
  if (skipped.length && !quiet) console.error(`${skipped.length} files skipped during the scan (listed above)`);
  if (items.length < 10) throw new Error(`only ${items.length} labelled files found; need at least 10 to train`);
  const gpu = await getGpu();
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
