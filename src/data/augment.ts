// Waveform augmentation of training items (after the split, so no augmented copy of a
// test utterance is ever trained on), with audiomentations' defaults: each transform
// fires with its own probability and draws its strength uniformly from a range. Every
// item gets its own random stream, deriveSeed(seed, index), so a batch comes out the
// same whether it runs in this thread or spread over any number of workers.
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Rng, deriveSeed } from '../util/rng.js';
import { BUNDLED } from '../util/bundle.js';
import { pitchShift, timeStretch } from './timescale.js';

export interface AugmentOptions {
  /** AddGaussianNoise: noise std drawn from [minAmplitude, maxAmplitude]. */
  noise: { p: number; minAmplitude: number; maxAmplitude: number };
  /** TimeStretch: rate > 1 is faster; output length round(len / rate) unless leaveLengthUnchanged. */
  stretch: { p: number; minRate: number; maxRate: number; leaveLengthUnchanged: boolean };
  /** PitchShift in semitones; length unchanged. */
  pitch: { p: number; minSemitones: number; maxSemitones: number };
  /** Shift by a fraction of the length; positive is later. Rolled over, or the gap is zero-filled. */
  shift: { p: number; minFraction: number; maxFraction: number; rollover: boolean };
}

export type AugmentOverrides = { [K in keyof AugmentOptions]?: Partial<AugmentOptions[K]> };

export const AUGMENT_DEFAULTS: AugmentOptions = {
  noise: { p: 0.5, minAmplitude: 0.001, maxAmplitude: 0.015 },
  stretch: { p: 0.5, minRate: 0.8, maxRate: 1.25, leaveLengthUnchanged: false },
  pitch: { p: 0.5, minSemitones: -4, maxSemitones: 4 },
  shift: { p: 0.5, minFraction: -0.5, maxFraction: 0.5, rollover: true },
};

export function augmentOptions(o: AugmentOverrides = {}): AugmentOptions {
  return {
    noise: { ...AUGMENT_DEFAULTS.noise, ...o.noise },
    stretch: { ...AUGMENT_DEFAULTS.stretch, ...o.stretch },
    pitch: { ...AUGMENT_DEFAULTS.pitch, ...o.pitch },
    shift: { ...AUGMENT_DEFAULTS.shift, ...o.shift },
  };
}

export interface AudioClip {
  audio: Float32Array;
  sampleRate: number;
}

/** What was done to one clip, for logs and tests. */
export interface Applied {
  noise?: number;
  stretch?: number;
  pitch?: number;
  shift?: number;
}

export interface Augmented {
  audio: Float32Array;
  applied: Applied;
}

export function addGaussianNoise(x: Float32Array, amplitude: number, rng: Rng): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! + amplitude * rng.normal();
  return y;
}

/** Moves samples by `samples` (positive: later), rolling them round or filling the gap with zeros. */
export function timeShift(x: Float32Array, samples: number, rollover: boolean): Float32Array {
  const n = x.length;
  const y = new Float32Array(n);
  if (n === 0) return y;
  for (let i = 0; i < n; i++) {
    const j = i + samples;
    if (j >= 0 && j < n) y[j] = x[i]!;
    else if (rollover) y[((j % n) + n) % n] = x[i]!;
  }
  return y;
}

/**
 * Augments one clip, in audiomentations' usual order: noise, stretch, pitch, shift.
 * The random draws happen in a fixed order, so `seed` alone fixes the result.
 */
export function augment(clip: AudioClip, seed: number, overrides: AugmentOverrides = {}): Augmented {
  const o = augmentOptions(overrides);
  const rng = new Rng(seed);
  const applied: Applied = {};
  let x = clip.audio;
  if (rng.next() < o.noise.p) {
    applied.noise = rng.uniform(o.noise.minAmplitude, o.noise.maxAmplitude);
    x = addGaussianNoise(x, applied.noise, rng);
  }
  if (rng.next() < o.stretch.p) {
    applied.stretch = rng.uniform(o.stretch.minRate, o.stretch.maxRate);
    const y = timeStretch(x, applied.stretch, clip.sampleRate);
    x = o.stretch.leaveLengthUnchanged ? fitLength(y, x.length) : y;
  }
  if (rng.next() < o.pitch.p) {
    applied.pitch = rng.uniform(o.pitch.minSemitones, o.pitch.maxSemitones);
    x = pitchShift(x, applied.pitch, clip.sampleRate);
  }
  if (rng.next() < o.shift.p) {
    applied.shift = Math.round(rng.uniform(o.shift.minFraction, o.shift.maxFraction) * x.length);
    x = timeShift(x, applied.shift, o.shift.rollover);
  }
  // Never hand back the caller's buffer: the result may be transferred or mutated.
  return { audio: x === clip.audio ? Float32Array.from(x) : x, applied };
}

/** Crops or zero-pads at the end (audiomentations' leave_length_unchanged). */
function fitLength(x: Float32Array, n: number): Float32Array {
  if (x.length === n) return x;
  const y = new Float32Array(n);
  y.set(x.subarray(0, Math.min(n, x.length)));
  return y;
}

/**
 * Replicates minority-class items (drawn with replacement) until every class present
 * has the majority count. Returns the originals, in order, followed by the copies.
 */
export function oversample<T extends { label: number }>(items: readonly T[], seed: number): T[] {
  const byClass = new Map<number, T[]>();
  for (const it of items) {
    const list = byClass.get(it.label) ?? [];
    list.push(it);
    byClass.set(it.label, list);
  }
  const majority = Math.max(0, ...[...byClass.values()].map((l) => l.length));
  const rng = new Rng(seed);
  const out = [...items];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(label)!;
    for (let k = list.length; k < majority; k++) out.push(list[rng.int(list.length)]!);
  }
  return out;
}

// ---- worker pool -------------------------------------------------------------------

interface Job {
  index: number;
  clip: AudioClip;
  seed: number;
}

interface Reply {
  id: number;
  audio?: Float32Array;
  applied?: Applied;
  error?: string;
}

// The worker imports the TypeScript worker module through tsx, as bin/ser.js does for
// the main thread: register() in a worker's own loader makes the .ts import work under
// plain node and under vitest alike.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.module);
})().catch((e) => { setImmediate(() => { throw e; }); });
`;

/** The ESM entry of tsx's API (its CommonJS twin cannot register the ESM hooks from a worker). */
function tsxApiUrl(): string {
  const meta = import.meta as ImportMeta & { resolve?: (s: string) => string };
  try {
    if (meta.resolve) return meta.resolve('tsx/esm/api');
  } catch {
    // Test runners may transform import.meta; fall back to require's resolution below.
  }
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
}

/** A few worker threads that augment clips; idle workers do not keep the process alive. */
export class AugmentPool {
  readonly size: number;
  private workers: Worker[] = [];
  private waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; worker: Worker }>();
  private nextId = 0;
  private closed = false;

  /** size 0 runs everything in the calling thread. */
  constructor(size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    this.size = size;
  }

  private spawn(): Worker {
    // The portable build makes the worker an entry point of its own beside the bundle.
    const module = new URL(BUNDLED ? './augment_worker.mjs' : './augment_worker.ts', import.meta.url).href;
    const tsx = module.endsWith('.ts') ? tsxApiUrl() : '';
    const w = new Worker(BOOTSTRAP, { eval: true, workerData: { module, tsx } });
    w.on('message', (r: Reply) => {
      const p = this.waiting.get(r.id);
      if (!p) return;
      this.waiting.delete(r.id);
      if (![...this.waiting.values()].some((q) => q.worker === w)) w.unref();
      if (r.error) p.reject(new Error(`augmentation worker: ${r.error}`));
      else p.resolve(r);
    });
    const fail = (e: Error) => {
      for (const [id, p] of this.waiting) {
        if (p.worker !== w) continue;
        this.waiting.delete(id);
        p.reject(new Error(`augmentation worker failed: ${e.message}`));
      }
      this.workers = this.workers.filter((x) => x !== w);
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    w.unref();
    return w;
  }

  private send(w: Worker, job: Job, options: AugmentOverrides): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, worker: w });
      w.ref();
      // The clip is copied (not transferred) so the caller may reuse its audio next epoch.
      w.postMessage({ id, audio: job.clip.audio, sampleRate: job.clip.sampleRate, seed: job.seed, options });
    });
  }

  /** Augments clips[i] with deriveSeed(seed, i); results in input order. */
  async run(clips: readonly AudioClip[], seed: number, options: AugmentOverrides = {}): Promise<Augmented[]> {
    if (this.closed) throw new Error('augmentation pool is closed');
    const out = new Array<Augmented>(clips.length);
    if (this.size === 0) {
      clips.forEach((c, i) => (out[i] = augment(c, deriveSeed(seed, i), options)));
      return out;
    }
    while (this.workers.length < this.size) this.workers.push(this.spawn());
    let next = 0;
    // One job in flight per worker: a free worker takes the next clip, so load balances itself.
    const drain = async (w: Worker): Promise<void> => {
      while (next < clips.length) {
        const i = next++;
        const r = await this.send(w, { index: i, clip: clips[i]!, seed: deriveSeed(seed, i) }, options);
        out[i] = { audio: r.audio!, applied: r.applied! };
      }
    };
    await Promise.all(this.workers.map(drain));
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

let shared: AugmentPool | null = null;

/** Augments a batch on a process-wide pool (created on first use). */
export function augmentBatch(clips: readonly AudioClip[], seed: number, options: AugmentOverrides = {}): Promise<Augmented[]> {
  shared ??= new AugmentPool();
  return shared.run(clips, seed, options);
}
