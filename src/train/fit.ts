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

export async function fit(gpu: Gpu, model: Ser3dCnn, engine: Engine, train: Dataset, val: Dataset, opts: FitOptions, metadata: Record<string, string> = {}): Promise<FitResult> {
  const lastPath = join(opts.out, 'last.safetensors');
  const statePath = join(opts.out, 'state.json');
  let history: EpochLogs[] = [];
  let cb = initialCallbackState(opts.lr);
  let startEpoch = 0;
  // Temporary files of checkpoint writes that a kill -9 cut short: never read, only space.
  await removeStaleTemps(opts.out);
  if (opts.resume) {
    if (!existsSync(lastPath)) throw new Error(`--resume: no completed epoch in ${opts.out} (last.safetensors missing)`);
    const meta = await loadModel(gpu, model, lastPath, true);
    // The state inside last.safetensors belongs to its weights even when a kill fell between
    // the two writes; state.json (for people and older checkpoints) may be an epoch behind.
    let saved: SavedState;
    try {
      saved = JSON.parse(meta.state ?? readFileSync(statePath, 'utf8')) as SavedState;
    } catch (e) {
      throw new Error(`--resume: cannot read the training state of ${lastPath}: ${(e as Error).message}`);
    }
    history = saved.history;
    cb = saved.callbacks;
    engine.adamStep = saved.adamStep;
    startEpoch = saved.epoch + 1;
    if (!opts.quiet) console.error(`resuming after epoch ${saved.epoch + 1}`);
  }


  let signal: string | null = null;
  const onSignal = (s: string): void => {
    if (signal) {
      // A second signal: the user will not wait for the step (or a long validation) to end.
      // Completed epochs are already on disk, so exiting here loses only the current one.
      console.error(`${s} again: stopping now; ${existsSync(lastPath) ? `the last completed epoch is in ${lastPath} (continue with --resume)` : 'no epoch had completed'}`);
      process.exit(s === 'SIGINT' ? 130 : 143);
    }
    signal = s;
    if (!opts.quiet) console.error(`${s}: stopping after the current step and saving the weights (send it again to stop at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const t0 = performance.now();
  let stoppedEarly = false;
  try {
    const n = train.y.length;
    for (let epoch = startEpoch; epoch < opts.epochs; epoch++) {
      const epochStart = performance.now();
      const order = epochOrder(opts.seed, epoch, n);
      const bar = new ProgressBar(`epoch ${epoch + 1}/${opts.epochs}`, n, 'samples', opts.quiet);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let s = 0; s < n; s += opts.batch) {
        if (signal) {
          const path = join(opts.out, 'interrupted.safetensors');
          await saveModel(gpu, model, path, { metadata });
          throw new TrainingInterrupted(signal, path);
        }
        const idx = order.slice(s, s + opts.batch);
        const b = batchOf(train, engine.sampleSize, idx);
        const r = await engine.trainStep(b.x, b.y, cb.lr);
        idx.forEach((_, i) => {
          lossSum += r.losses[i]!;
          if (argmax(r.probs.subarray(i * engine.classes, (i + 1) * engine.classes)) === b.y[i]) correct++;
        });
        seen += idx.length;
        bar.update(seen, { loss: lossSum / seen, acc: correct / seen });
      }
      if (opts.recalibrateBatches) {
        const batches = [];
        for (let s = 0; s < n && batches.length < opts.recalibrateBatches; s += opts.batch) {
          const b = batchOf(train, engine.sampleSize, order.slice(s, s + opts.batch));
          batches.push({ x: b.x, n: b.y.length });
        }
        await engine.recalibrateBatchNorm(batches);
      }
      const v = await evaluateDataset(engine, val, opts.batch);
      const logs: EpochLogs = {
        epoch,
        loss: lossSum / n,
        accuracy: correct / n,
        val_loss: v.loss,
        val_accuracy: v.accuracy,
        lr: cb.lr,
        seconds: (performance.now() - epochStart) / 1000,
      };
      history.push(logs);
      const d = onEpochEnd(cb, logs, opts.callbacks);
      if (!opts.quiet) {
        console.error(
          `epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)} acc ${logs.accuracy.toFixed(4)}  val_loss ${logs.val_loss.toFixed(4)} val_acc ${logs.val_accuracy.toFixed(4)}  lr ${logs.lr.toExponential(1)}${d.saveBest ? '  (best val_accuracy: saved best.safetensors)' : ''}`,
        );
      }
      if (d.saveBest) await saveModel(gpu, model, join(opts.out, 'best.safetensors'), { metadata: { ...metadata, epoch: String(epoch + 1) } });
      if (d.newBestLoss) {
        await saveModel(gpu, model, join(opts.out, 'best_loss.safetensors'), { metadata: { ...metadata, epoch: String(epoch + 1) } });
      }
      const state: SavedState = { epoch, history, callbacks: cb, adamStep: engine.adamStep };
      await saveModel(gpu, model, lastPath, { optimizer: { adamStep: engine.adamStep }, metadata: { ...metadata, state: JSON.stringify(state) } });
      await writeJsonAtomic(statePath, state);
      await writeJsonAtomic(join(opts.out, 'history.json'), history);
      await writeFileAtomic(join(opts.out, 'curves.svg'), trainingCurvesSvg(history));
      if (d.stop) {
        stoppedEarly = true;
        if (!opts.quiet) console.error(`early stopping: val_loss has not improved for ${opts.callbacks.earlyStoppingPatience} epochs`);
        break;
      }
      if (opts.timeBudgetSeconds && (performance.now() - t0) / 1000 > opts.timeBudgetSeconds) break;
    }
  } catch (e) {
    // A lost device, GPU memory exhaustion or a NaN loss ends the run, but completed epochs are safe: say where.
    if ((e instanceof GpuError || e instanceof NonFiniteLossError) && existsSync(lastPath)) {
      e.message += ` The last completed epoch is saved in ${lastPath}; continue with --resume.`;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // restore_best_weights: Keras restores them when EarlyStopping fires; we do it at every end of training
  // so that the model evaluated and predicted with is the one validation preferred.
  const bestLoss = join(opts.out, 'best_loss.safetensors');
  if (cb.bestValLossEpoch >= 0 && existsSync(bestLoss)) await loadModel(gpu, model, bestLoss);
  return { history, bestEpoch: cb.bestValLossEpoch, stoppedEarly, interrupted: false, seconds: (performance.now() - t0) / 1000 };
}

