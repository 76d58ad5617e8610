// The training loop: epochs of shuffled batches, validation, Keras' callbacks,
// checkpoints and history — written so that nothing is lost on a crash.
//
// After every epoch `last.safetensors` (weights, batch-norm statistics, Adam
// moments, and in its metadata the training state) and `state.json` (the same state:
// epoch, history, callback state, learning rate) are written atomically; `--resume`
// continues from last.safetensors alone and repeats the uninterrupted
// run: batch order depends only on (seed, epoch) and dropout masks only on
// (seed, Adam step). SIGINT/SIGTERM stop at the next step boundary, save the
// current weights to `interrupted.safetensors` and keep `last` for resuming.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpuError, type Gpu } from '../kernels/gpu.js';
import type { Ser3dCnn } from '../model/ser3dcnn.js';
import { loadModel, saveModel } from '../model/checkpoint.js';
import { Engine, NonFiniteLossError } from './engine.js';
import { initialCallbackState, onEpochEnd, type CallbackConfig, type CallbackState, type EpochLogs } from './callbacks.js';
import { Rng, deriveSeed } from '../util/rng.js';
import { ProgressBar } from '../util/progress.js';
import { removeStaleTemps, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { trainingCurvesSvg } from './report.js';

/** Model inputs stacked: x is [n, ...input] row-major, y the labels. */
export interface Dataset {
  x: Float32Array;
  y: Uint32Array;
}

export interface FitOptions {
  out: string;
  epochs: number;
  batch: number;
  seed: number;
  lr: number;
  callbacks: CallbackConfig;
  resume: boolean;
  quiet?: boolean;
  /**
   * Before each validation, re-estimate batch-norm statistics from this many
   * training batches without dropout (0 keeps Keras' moving averages).
   */
  recalibrateBatches?: number;
  /** Stop after this many seconds of training (the demo's budget); checked after each epoch. */
  timeBudgetSeconds?: number;
}

export interface FitResult {
  history: EpochLogs[];
  bestEpoch: number;
  stoppedEarly: boolean;
  interrupted: boolean;
  seconds: number;
}

interface SavedState {
  epoch: number;
  history: EpochLogs[];
  callbacks: CallbackState;
  adamStep: number;
}

export class TrainingInterrupted extends Error {
  constructor(
    readonly signal: string,
    readonly path: string,
  ) {
    super(`interrupted by ${signal}; weights saved to ${path}; continue with --resume`);
    this.name = 'TrainingInterrupted';
  }
}

function batchOf(data: Dataset, sampleSize: number, idx: number[]): { x: Float32Array; y: Uint32Array } {
  const x = new Float32Array(idx.length * sampleSize);
  const y = new Uint32Array(idx.length);
  idx.forEach((j, i) => {
    x.set(data.x.subarray(j * sampleSize, (j + 1) * sampleSize), i * sampleSize);
    y[i] = data.y[j]!;
  });
  return { x, y };
}

/** Loss and accuracy of the model (inference mode) on a dataset; also returns the predictions. */
export async function evaluateDataset(engine: Engine, data: Dataset, batch: number): Promise<{ loss: number; accuracy: number; probs: Float32Array; pred: Uint32Array }> {
  const n = data.y.length;
  const c = engine.classes;
  const probs = new Float32Array(n * c);
  const pred = new Uint32Array(n);
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < n; s += batch) {
    const idx = Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
    const b = batchOf(data, engine.sampleSize, idx);
    const r = await engine.predictBatch(b.x, b.y, idx.length);
    probs.set(r.probs, s * c);
    idx.forEach((j, i) => {
      lossSum += r.losses[i]!;
      const p = argmax(r.probs.subarray(i * c, (i + 1) * c));
      pred[j] = p;
      if (p === data.y[j]) correct++;
    });
  }
  return { loss: lossSum / Math.max(n, 1), accuracy: correct / Math.max(n, 1), probs, pred };
}

/** The shuffled sample order of an epoch: a function of (seed, epoch) alone, so a resumed run repeats it. */
export function epochOrder(seed: number, epoch: number, n: number): number[] {
  return new Rng(deriveSeed(seed, 0xe90c, epoch)).shuffle(Array.from({ length: n }, (_, i) => i));
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

interface Resumed {
  history: EpochLogs[];
  callbacks: CallbackState;
  startEpoch: number;
}

/** The training state to continue from: fresh, or last.safetensors' weights, moments and state (--resume). */
async function resumeOrStart(gpu: Gpu, model: Ser3dCnn, engine: Engine, opts: FitOptions): Promise<Resumed> {
  // Temporary files of checkpoint writes that a kill -9 cut short: never read, only space.
  await removeStaleTemps(opts.out);
  if (!opts.resume) return { history: [], callbacks: initialCallbackState(opts.lr), startEpoch: 0 };
  const lastPath = join(opts.out, 'last.safetensors');
  if (!existsSync(lastPath)) throw new Error(`--resume: no completed epoch in ${opts.out} (last.safetensors missing)`);
  const meta = await loadModel(gpu, model, lastPath, engine.optimizer);
  // The state inside last.safetensors belongs to its weights even when a kill fell between
  // the two writes; state.json (for people and older checkpoints) may be an epoch behind.
  let saved: SavedState;
  try {
    saved = JSON.parse(meta.state ?? readFileSync(join(opts.out, 'state.json'), 'utf8')) as SavedState;
  } catch (e) {
    throw new Error(`--resume: cannot read the training state of ${lastPath}: ${(e as Error).message}`);
  }
  engine.adamStep = saved.adamStep;
  if (!opts.quiet) console.error(`resuming after epoch ${saved.epoch + 1}`);
  return { history: saved.history, callbacks: saved.callbacks, startEpoch: saved.epoch + 1 };
}

/**
 * SIGINT/SIGTERM: the first asks the loop to stop at the next step boundary (it saves
 * and throws TrainingInterrupted); a second exits at once, losing only the current epoch.
 */
function watchSignals(opts: FitOptions): { pending: () => string | null; stop: () => void } {
  let signal: string | null = null;
  const lastPath = join(opts.out, 'last.safetensors');
  const onSignal = (s: string): void => {
    if (signal) {
      console.error(`${s} again: stopping now; ${existsSync(lastPath) ? `the last completed epoch is in ${lastPath} (continue with --resume)` : 'no epoch had completed'}`);
      process.exit(s === 'SIGINT' ? 130 : 143);
    }
    signal = s;
    if (!opts.quiet) console.error(`${s}: stopping after the current step and saving the weights (send it again to stop at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    pending: () => signal,
    stop: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** One pass over the training set in the epoch's order; returns the mean loss and the accuracy (with dropout). */
async function trainEpoch(
  gpu: Gpu,
  model: Ser3dCnn,
  engine: Engine,
  train: Dataset,
  order: number[],
  lr: number,
  label: string,
  opts: FitOptions,
  signal: () => string | null,
  metadata: Record<string, string>,
): Promise<{ loss: number; accuracy: number }> {
  const n = train.y.length;
  const bar = new ProgressBar(label, n, 'samples', opts.quiet);
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < n; s += opts.batch) {
    const sig = signal();
    if (sig) {
      const path = join(opts.out, 'interrupted.safetensors');
      await saveModel(gpu, model, path, { metadata });
      throw new TrainingInterrupted(sig, path);
    }
    const b = batchOf(train, engine.sampleSize, order.slice(s, s + opts.batch));
    const r = await engine.trainStep(b.x, b.y, lr);
    b.y.forEach((y, i) => {
      lossSum += r.losses[i]!;
      if (argmax(r.probs.subarray(i * engine.classes, (i + 1) * engine.classes)) === y) correct++;
    });
    bar.update(Math.min(n, s + opts.batch), { loss: lossSum / Math.min(n, s + opts.batch), acc: correct / Math.min(n, s + opts.batch) });
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

/** Precise BN: batch-norm statistics re-estimated from the epoch's first `count` batches, without dropout. */
async function recalibrate(engine: Engine, train: Dataset, order: number[], batch: number, count: number): Promise<void> {
  const batches = [];
  for (let s = 0; s < order.length && batches.length < count; s += batch) {
    const b = batchOf(train, engine.sampleSize, order.slice(s, s + batch));
    batches.push({ x: b.x, n: b.y.length });
  }
  await engine.recalibrateBatchNorm(batches);
}

/** Everything an epoch leaves on disk: the callbacks' checkpoints, last.safetensors with the state, history and curves. */
async function saveEpoch(gpu: Gpu, model: Ser3dCnn, engine: Engine, out: string, state: SavedState, d: { saveBest: boolean; newBestLoss: boolean }, metadata: Record<string, string>): Promise<void> {
  const tagged = { metadata: { ...metadata, epoch: String(state.epoch + 1) } };
  if (d.saveBest) await saveModel(gpu, model, join(out, 'best.safetensors'), tagged);
  if (d.newBestLoss) await saveModel(gpu, model, join(out, 'best_loss.safetensors'), tagged);
  await saveModel(gpu, model, join(out, 'last.safetensors'), { optimizer: engine.optimizer, metadata: { ...metadata, state: JSON.stringify(state) } });
  await writeJsonAtomic(join(out, 'state.json'), state);
  await writeJsonAtomic(join(out, 'history.json'), state.history);
  await writeFileAtomic(join(out, 'curves.svg'), trainingCurvesSvg(state.history));
}

/**
 * The training loop: per epoch, train in the epoch's shuffled order, recalibrate
 * batch norm, validate, let the callbacks decide, save. Ends when EarlyStopping fires,
 * the epochs or the time budget run out, or a signal arrives.
 */
export async function fit(gpu: Gpu, model: Ser3dCnn, engine: Engine, train: Dataset, val: Dataset, opts: FitOptions, metadata: Record<string, string> = {}): Promise<FitResult> {
  const { history, callbacks: cb, startEpoch } = await resumeOrStart(gpu, model, engine, opts);
  const signals = watchSignals(opts);
  const t0 = performance.now();
  let stoppedEarly = false;
  try {
    for (let epoch = startEpoch; epoch < opts.epochs; epoch++) {
      const epochStart = performance.now();
      const order = epochOrder(opts.seed, epoch, train.y.length);
      const t = await trainEpoch(gpu, model, engine, train, order, cb.lr, `epoch ${epoch + 1}/${opts.epochs}`, opts, signals.pending, metadata);
      if (opts.recalibrateBatches) await recalibrate(engine, train, order, opts.batch, opts.recalibrateBatches);
      const v = await evaluateDataset(engine, val, opts.batch);
      const logs: EpochLogs = { epoch, ...t, val_loss: v.loss, val_accuracy: v.accuracy, lr: cb.lr, seconds: (performance.now() - epochStart) / 1000 };
      history.push(logs);
      const d = onEpochEnd(cb, logs, opts.callbacks);
      if (!opts.quiet) {
        console.error(
          `epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)} acc ${logs.accuracy.toFixed(4)}  val_loss ${logs.val_loss.toFixed(4)} val_acc ${logs.val_accuracy.toFixed(4)}  lr ${logs.lr.toExponential(1)}${d.saveBest ? '  (best val_accuracy: saved best.safetensors)' : ''}`,
        );
      }
      await saveEpoch(gpu, model, engine, opts.out, { epoch, history, callbacks: cb, adamStep: engine.adamStep }, d, metadata);
      if (d.stop) {
        stoppedEarly = true;
        if (!opts.quiet) console.error(`early stopping: val_loss has not improved for ${opts.callbacks.earlyStoppingPatience} epochs`);
        break;
      }
      if (opts.timeBudgetSeconds && (performance.now() - t0) / 1000 > opts.timeBudgetSeconds) break;
    }
  } catch (e) {
    // A lost device, GPU memory exhaustion or a NaN loss ends the run, but completed epochs are safe: say where.
    const lastPath = join(opts.out, 'last.safetensors');
    if ((e instanceof GpuError || e instanceof NonFiniteLossError) && existsSync(lastPath)) {
      e.message += ` The last completed epoch is saved in ${lastPath}; continue with --resume.`;
    }
    throw e;
  } finally {
    signals.stop();
  }
  // restore_best_weights: Keras restores them when EarlyStopping fires; we do it at every end of training
  // so that the model evaluated and predicted with is the one validation preferred.
  const bestLoss = join(opts.out, 'best_loss.safetensors');
  if (cb.bestValLossEpoch >= 0 && existsSync(bestLoss)) await loadModel(gpu, model, bestLoss);
  return { history, bestEpoch: cb.bestValLossEpoch, stoppedEarly, interrupted: false, seconds: (performance.now() - t0) / 1000 };
}
