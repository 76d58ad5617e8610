// From labelled files to model inputs: decode, resample, (training only) augment
// and oversample, then the GPU mel front end in batches. Features of original
// files are cached on disk by file content and settings, so a second run skips
// decoding and the front end entirely.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Gpu } from '../kernels/gpu.js';
import { decodeAudio, readAudioFile } from '../dsp/wav.js';
import { resample } from '../dsp/resample.js';
import { MelFrontend, type FrontendSettings } from '../dsp/frontend.js';
import { FeatureCache } from '../dsp/feature-cache.js';
import { augmentBatch, oversample } from '../data/augment.js';
import { deriveSeed } from '../util/rng.js';
import { ProgressBar } from '../util/progress.js';
import type { Dataset } from './fit.js';

export interface LabelledFile {
  path: string;
  label: number;
  speaker: string;
}

export interface Skipped {
  path: string;
  reason: string;
}

export interface PrepareOptions {
  frontend: FrontendSettings;
  seed: number;
  /** Augmented copies of each training clip added to the originals (0 = none). */
  augmentCopies: number;
  oversample: boolean;
  /** Feature cache directory; null disables it. */
  cacheDir: string | null;
  quiet?: boolean;
  /** Longest audio accepted per file, in seconds (bounded memory). */
  maxSeconds?: number;
}

const FEATURE_BATCH = 64;

/** Decodes a file to mono at the front end's rate. Every failure is an AudioDecodeError naming the file. */
export async function loadClip(path: string, sampleRate: number, bytes?: Uint8Array, maxSeconds = 600): Promise<Float32Array> {
  // readAudioFile refuses directories, unreadable and oversized files with a message, before reading them.
  const audio = bytes ? decodeAudio(bytes, basename(path), { maxSeconds }) : await readAudioFile(path, { maxSeconds });
  return audio.sampleRate === sampleRate ? audio.samples : resample(audio.samples, audio.sampleRate, sampleRate);
}

/** Model inputs of clips already in memory, FEATURE_BATCH clips per GPU pass. */
export async function featuresOfClips(frontend: MelFrontend, clips: Float32Array[], label = 'features', quiet = false): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const bar = new ProgressBar(label, clips.length, 'clips', quiet || clips.length < FEATURE_BATCH);
  for (let s = 0; s < clips.length; s += FEATURE_BATCH) {
    out.push(...(await frontend.modelInputs(clips.slice(s, s + FEATURE_BATCH))));
    bar.update(out.length);
  }
  return out;
}

/**
 * Features of files (cached), and the clips themselves when `keepAudio` (for
 * augmentation). Files that fail to decode are skipped and reported, never fatal.
 */
export async function featuresOfFiles(
  gpu: Gpu,
  files: readonly LabelledFile[],
  opts: PrepareOptions,
  keepAudio: boolean,
  label: string,
): Promise<{ features: Float32Array[]; clips: Float32Array[]; kept: LabelledFile[]; skipped: Skipped[] }> {
  const frontend = new MelFrontend(gpu, opts.frontend);
  const cache = opts.cacheDir ? new FeatureCache(opts.cacheDir) : null;
  const features: (Float32Array | null)[] = [];
  const clips: Float32Array[] = [];
  const kept: LabelledFile[] = [];
  const skipped: Skipped[] = [];
  const pending: { index: number; clip: Float32Array; key: string | null }[] = [];
  const bar = new ProgressBar(label, files.length, 'files', opts.quiet);
  const flush = async (): Promise<void> => {
    const got = await frontend.modelInputs(pending.map((p) => p.clip));
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i]!;
      features[p.index] = got[i]!;
      if (cache && p.key) await cache.put(p.key, { shape: [got[i]!.length], data: got[i]! });
    }
    pending.length = 0;
  };
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(f.path));
    } catch (e) {
      skipped.push({ path: f.path, reason: (e as Error).message });
      continue;
    }
    const key = cache ? FeatureCache.key(bytes, opts.frontend) : null;
    const hit = cache && key && !keepAudio ? await cache.get(key) : null;
    const index = kept.length;
    if (hit) {
      features.push(hit.data);
      kept.push(f);
    } else {
      let clip: Float32Array;
      try {
        clip = await loadClip(f.path, opts.frontend.sampleRate, bytes, opts.maxSeconds);
      } catch (e) {
        skipped.push({ path: f.path, reason: (e as Error).message });
        continue;
      }
      features.push(null);
      kept.push(f);
      if (keepAudio) clips.push(clip);
      pending.push({ index, clip, key });
      if (pending.length >= FEATURE_BATCH) await flush();
    }
    bar.update(i + 1);
  }
  if (pending.length) await flush();
  bar.update(files.length);
  return { features: features as Float32Array[], clips, kept, skipped };
}

export function stack(features: readonly Float32Array[], labels: readonly number[]): Dataset {
  const size = features[0]?.length ?? 0;
  const x = new Float32Array(features.length * size);
  features.forEach((f, i) => x.set(f, i * size));
  return { x, y: Uint32Array.from(labels) };
}

export interface PreparedSplit {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  /** Training items before augmentation and oversampling (class weights come from these). */
  trainLabels: number[];
  testFiles: LabelledFile[];
  skipped: Skipped[];
}

/** Features for a split, with augmentation and oversampling of the training part only. */
export async function prepareSplit(
  gpu: Gpu,
  split: { train: readonly LabelledFile[]; val: readonly LabelledFile[]; test: readonly LabelledFile[] },
  opts: PrepareOptions,
): Promise<PreparedSplit> {
  const augmenting = opts.augmentCopies > 0;
  const tr = await featuresOfFiles(gpu, split.train, opts, augmenting, 'train features');
  const va = await featuresOfFiles(gpu, split.val, opts, false, 'val features');
  const te = await featuresOfFiles(gpu, split.test, opts, false, 'test features');

  let feats = tr.features;
  let labels = tr.kept.map((f) => f.label);
  if (augmenting) {
    const frontend = new MelFrontend(gpu, opts.frontend);
    const sr = opts.frontend.sampleRate;
    for (let copy = 0; copy < opts.augmentCopies; copy++) {
      const t0 = performance.now();
      const augmented = await augmentBatch(
        tr.clips.map((audio) => ({ audio, sampleRate: sr })),
        deriveSeed(opts.seed, 0xa09, copy),
      );
      if (!opts.quiet) console.error(`augmented ${augmented.length} clips (copy ${copy + 1}/${opts.augmentCopies}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      feats = feats.concat(await featuresOfClips(frontend, augmented.map((a) => a.audio), 'augmented features', opts.quiet));
      labels = labels.concat(tr.kept.map((f) => f.label));
    }
  }
  let order = labels.map((label, index) => ({ label, index }));
  if (opts.oversample) order = oversample(order, deriveSeed(opts.seed, 0x05a));
  return {
    train: stack(
      order.map((o) => feats[o.index]!),
      order.map((o) => o.label),
    ),
    val: stack(va.features, va.kept.map((f) => f.label)),
    test: stack(te.features, te.kept.map((f) => f.label)),
    trainLabels: tr.kept.map((f) => f.label),
    testFiles: te.kept,
    skipped: [...tr.skipped, ...va.skipped, ...te.skipped],
  };
}

/**
 * Focal-loss alpha from scikit-learn's "balanced" class weights,
 * n / (classes · count_c), normalised to sum to 1. Absent classes get 0.
 */
export function balancedAlpha(labels: readonly number[], classes: number): Float32Array {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]!++;
  const present = counts.filter((c) => c > 0).length;
  const w = counts.map((c) => (c > 0 ? labels.length / (present * c) : 0));
  const sum = w.reduce((a, b) => a + b, 0) || 1;
  return Float32Array.from(w, (v) => v / sum);
}
