// A whole training run, as `ser train` and `ser demo` perform it: split, features,
// model, fit with callbacks, then the test-split report — everything written to
// the run folder (docs/CHECKPOINTS.md lists its contents).
import { mkdir, readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Gpu } from '../kernels/gpu.js';
import { splitItems, type SplitMode } from '../data/split.js';
import { DEFAULT_FRONTEND, type FrontendSettings } from '../dsp/frontend.js';
import { Ser3dCnn, type ModelConfig } from '../model/ser3dcnn.js';
import { BN_MOMENTUM } from '../model/architecture.js';
import { loadModel } from '../model/checkpoint.js';
import { Engine, KERAS_ADAM } from './engine.js';
import { KERAS_CALLBACKS, type CallbackConfig } from './callbacks.js';
import { evaluateDataset, fit, type FitResult } from './fit.js';
import { balancedAlpha, prepareSplit, type LabelledFile, type PreparedSplit, type Skipped } from './prepare.js';
import { classificationReport, confusionMatrixSvg, formatClassificationReport, formatConfusionMatrix, reportJson, type ReportJson } from './report.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';

export interface RunOptions {
  out: string;
  classes: string[];
  epochs: number;
  batch: number;
  width: number;
  seed: number;
  split: SplitMode;
  /** Focal loss gamma; 0 with uniform alpha is plain cross-entropy. */
  loss: 'focal' | 'ce';
  gamma: number;
  lr: number;
  augmentCopies: number;
  oversample: boolean;
  callbacks: CallbackConfig;
  frontend: FrontendSettings;
  resume: boolean;
  cacheDir: string | null;
  quiet: boolean;
  timeBudgetSeconds?: number;
  /** Batch-norm momentum of the running statistics (Keras 0.99). */
  bnMomentum: number;
  /** Training batches used to re-estimate batch-norm statistics before each validation (0: Keras' moving averages only). */
  recalibrateBatches: number;
  /** Precomputed split (leave-one-speaker-out folds); otherwise 70/15/15 by `split`. */
  presplit?: { train: LabelledFile[]; val: LabelledFile[]; test: LabelledFile[] };
  /** Extra fields for config.json (the data sources, say). */
  extraConfig?: Record<string, unknown>;
}

export const DEFAULT_RUN: Omit<RunOptions, 'out' | 'classes'> = {
  epochs: 100,
  batch: 32,
  width: 1,
  seed: 0,
  split: 'random',
  loss: 'focal',
  gamma: 2,
  lr: KERAS_ADAM.lr,
  augmentCopies: 1,
  oversample: true,
  bnMomentum: BN_MOMENTUM,
  recalibrateBatches: 16,
  callbacks: KERAS_CALLBACKS,
  frontend: DEFAULT_FRONTEND,
  resume: false,
  cacheDir: '.cache/features',
  quiet: false,
};

export interface RunConfig {
  format: 'ser-webgpu';
  classes: string[];
  width: number;
  input: [number, number, number, number];
  bnMomentum?: number;
  features: FrontendSettings;
  loss: { kind: 'focal' | 'ce'; gamma: number; alpha: number[] };
  seed: number;
  split: SplitMode;
  [k: string]: unknown;
}

export interface RunResult {
  fit: FitResult;
  test: ReportJson;
  testText: string;
  parameterCount: number;
  trainSamples: number;
  skipped: Skipped[];
  seconds: number;
}

export function modelInputShape(f: FrontendSettings): [number, number, number, number] {
  return [f.timesteps, f.nMels, f.framesPerStep, 1];
}

export async function readRunConfig(path: string): Promise<RunConfig> {
  let cfg: RunConfig;
  try {
    cfg = JSON.parse(await readFile(path, 'utf8')) as RunConfig;
  } catch (e) {
    throw new Error(`cannot read model config ${path}: ${(e as Error).message}`);
  }
  if (cfg.format !== 'ser-webgpu' || !Array.isArray(cfg.classes) || !(cfg.width > 0) || !Array.isArray(cfg.input)) {
    throw new Error(`${path} is not a ser-webgpu model config`);
  }
  return cfg;
}

/** The config.json beside a checkpoint (`RUN/best.safetensors` → `RUN/config.json`). */
export function configPathFor(checkpoint: string): string {
  return join(checkpoint, '..', 'config.json');
}

/** Builds the model a config describes and loads a checkpoint into it. */
export async function loadTrainedModel(gpu: Gpu, checkpoint: string): Promise<{ model: Ser3dCnn; config: RunConfig }> {
  if (!existsSync(checkpoint)) throw new Error(`no such checkpoint: ${checkpoint}`);
  // A run folder stands for the model a user gets from it.
  if (statSync(checkpoint).isDirectory()) checkpoint = join(checkpoint, 'best.safetensors');
  if (!existsSync(checkpoint)) throw new Error(`no such checkpoint: ${checkpoint}`);
  const config = await readRunConfig(configPathFor(checkpoint));
  const model = new Ser3dCnn(gpu, { classes: config.classes, input: config.input, width: config.width, bnMomentum: config.bnMomentum });
  await loadModel(gpu, model, checkpoint);
  return { model, config };
}

/** What both engines train from: the split's features (augmented, oversampled) and the loss weights. */
export interface RunData {
  data: PreparedSplit;
  alpha: Float32Array;
  gamma: number;
  modelConfig: ModelConfig;
}

/** Split, features, augmentation and oversampling, and the loss weights of a run. */
export async function prepareRunData(gpu: Gpu, files: LabelledFile[], o: RunOptions): Promise<RunData> {
  const split = o.presplit ?? splitItems(files, { seed: o.seed, mode: o.split });
  if (split.train.length === 0 || split.val.length === 0) throw new Error(`not enough data to split: ${files.length} labelled files`);
  if (!o.quiet) console.error(`split (${o.split}): ${split.train.length} train, ${split.val.length} val, ${split.test.length} test`);

  const data = await prepareSplit(gpu, split, { frontend: o.frontend, seed: o.seed, augmentCopies: o.augmentCopies, oversample: o.oversample, cacheDir: o.cacheDir, quiet: o.quiet });
  if (data.train.y.length === 0 || data.val.y.length === 0) {
    const s = data.skipped[0];
    throw new Error(`no decodable clips left in the ${data.train.y.length === 0 ? 'training' : 'validation'} part: ${data.skipped.length} files skipped${s ? `, e.g. ${s.path}: ${s.reason}` : ''}`);
  }
  const classes = o.classes.length;
  const alpha = o.loss === 'focal' ? balancedAlpha(data.trainLabels, classes) : new Float32Array(classes).fill(1);
  const gamma = o.loss === 'focal' ? o.gamma : 0;
  return { data, alpha, gamma, modelConfig: { classes: o.classes, input: modelInputShape(o.frontend), width: o.width, bnMomentum: o.bnMomentum } };
}

/** The config.json of a run: what a checkpoint needs to be loaded, and the recipe that made it. */
export function runConfigOf(o: RunOptions, rd: Pick<RunData, 'alpha' | 'gamma' | 'modelConfig'>): RunConfig {
  return {
    format: 'ser-webgpu',
    classes: o.classes,
    width: o.width,
    input: rd.modelConfig.input,
    bnMomentum: o.bnMomentum,
    features: o.frontend,
    loss: { kind: o.loss, gamma: rd.gamma, alpha: [...rd.alpha] },
    seed: o.seed,
    split: o.split,
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    augmentCopies: o.augmentCopies,
    oversample: o.oversample,
    recalibrateBatches: o.recalibrateBatches,
    callbacks: o.callbacks,
    ...o.extraConfig,
  };
}

export async function trainRun(gpu: Gpu, files: LabelledFile[], o: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  await mkdir(o.out, { recursive: true });
  const { data, alpha, gamma, modelConfig } = await prepareRunData(gpu, files, o);
  const model = new Ser3dCnn(gpu, modelConfig, o.seed);
  const config = runConfigOf(o, { alpha, gamma, modelConfig });
  await writeJsonAtomic(join(o.out, 'config.json'), config);
  if (!o.quiet) {
    console.error(`model: ${model.parameterCount.toLocaleString('en-US')} parameters (width ${o.width}); ${data.train.y.length} training samples after augmentation and oversampling`);
  }

  const engine = new Engine(gpu, model, o.batch, alpha, gamma, { ...KERAS_ADAM, lr: o.lr }, o.seed);
  const result = await fit(gpu, model, engine, data.train, data.val, {
    out: o.out,
    epochs: o.epochs,
    batch: o.batch,
    seed: o.seed,
    lr: o.lr,
    callbacks: o.callbacks,
    resume: o.resume,
    quiet: o.quiet,
    timeBudgetSeconds: o.timeBudgetSeconds,
    recalibrateBatches: o.recalibrateBatches,
  });

  // The test report uses the ModelCheckpoint file (best val_accuracy): the model a user gets as best.safetensors.
  const best = join(o.out, 'best.safetensors');
  if (existsSync(best)) await loadModel(gpu, model, best);
  const testData = data.test.y.length > 0 ? data.test : data.val;
  const ev = await evaluateDataset(engine, testData, o.batch);
  const report = classificationReport(testData.y, ev.pred, o.classes);
  const json = reportJson(report);
  const text = `${formatClassificationReport(report)}\n${formatConfusionMatrix(report.confusion, o.classes)}\n`;
  await writeFileAtomic(join(o.out, 'test_report.txt'), text);
  await writeJsonAtomic(join(o.out, 'test_report.json'), json);
  await writeFileAtomic(join(o.out, 'confusion.svg'), confusionMatrixSvg(report.confusion, o.classes, 'Test split'));
  return {
    fit: result,
    test: json,
    testText: text,
    parameterCount: model.parameterCount,
    trainSamples: data.train.y.length,
    skipped: data.skipped,
    seconds: (performance.now() - t0) / 1000,
  };
}
