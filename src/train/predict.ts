// Inference on a clip of any length, as `ser predict` prints it and the web page
// shows it: windows of the model's length with a half-window hop (one window for a
// short clip), the GPU front end on all of them at once, the network in batches
// of the engine's size, and the file's prediction as the mean of its windows.
// Both entry points call these functions, so they cannot disagree.
import { toModelInput, type FrontendSettings, type MelFrontend } from '../dsp/frontend.js';
import type { Engine } from './engine.js';

export interface Top {
  emotion: string;
  probability: number;
}

/** The k most probable classes, most probable first. */
export function topK(probs: ArrayLike<number>, classes: readonly string[], k = 3): Top[] {
  return Array.from(probs, (p, i) => ({ emotion: classes[i]!, probability: p }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

/** Samples the model sees at once: timesteps × frames per step × hop (about 4.2 s at the defaults). */
export function windowSamples(f: Pick<FrontendSettings, 'timesteps' | 'framesPerStep' | 'hop'>): number {
  return f.timesteps * f.framesPerStep * f.hop;
}

/** First sample of each window: 0, then every half window while a whole window fits. */
export function windowStarts(length: number, window: number): number[] {
  const starts: number[] = [0];
  for (let s = window / 2; s + window <= length; s += window / 2) starts.push(s);
  return starts;
}

/** A window's scaled log-mel spectrogram as the front end wrote it: [nMels][frames], in [0, 1]. */
export interface Spectrogram {
  frames: number;
  scaled: Float32Array;
}

export interface ClipPrediction {
  /** First sample of each window, at the front end's rate. */
  starts: number[];
  /** Softmax probabilities of each window, in class order. */
  probs: Float32Array[];
  /** Each window's spectrogram (only when asked for: they take memory). */
  spectrograms?: Spectrogram[];
}

/** Scores every window of `clip` (already at the front end's rate). */
export async function predictClip(frontend: MelFrontend, engine: Engine, clip: Float32Array, opts: { spectrograms?: boolean } = {}): Promise<ClipPrediction> {
  const f = frontend.settings;
  const window = windowSamples(f);
  const starts = windowStarts(clip.length, window);
  const mels = await frontend.melBatch(starts.map((s) => clip.slice(s, Math.min(clip.length, s + window))));
  const inputs = mels.map((m) => toModelInput(m.scaled, m.frames, f));
  const c = engine.classes;
  const probs: Float32Array[] = [];
  for (let s = 0; s < inputs.length; s += engine.maxBatch) {
    const part = inputs.slice(s, s + engine.maxBatch);
    const x = new Float32Array(part.length * engine.sampleSize);
    part.forEach((p, i) => x.set(p, i * engine.sampleSize));
    const r = await engine.predictBatch(x, null, part.length);
    for (let i = 0; i < part.length; i++) probs.push(r.probs.slice(i * c, (i + 1) * c));
  }
  return { starts, probs, spectrograms: opts.spectrograms ? mels.map((m) => ({ frames: m.frames, scaled: m.scaled })) : undefined };
}

/** One line of `ser predict --json`. */
export interface PredictionRecord {
  file: string;
  seconds: number;
  top: Top[];
  /** Per window, for clips longer than one window. */
  windows?: { start: number; end: number; top: Top[] }[];
}

/** The mean of the windows' probabilities. */
export function meanProbabilities(probs: readonly Float32Array[], classes: number): Float32Array {
  const mean = new Float32Array(classes);
  for (const p of probs) p.forEach((q, i) => (mean[i]! += q / probs.length));
  return mean;
}

/** What `ser predict` reports for a file of `length` samples. */
export function predictionRecord(file: string, length: number, f: Pick<FrontendSettings, 'sampleRate' | 'timesteps' | 'framesPerStep' | 'hop'>, p: ClipPrediction, classes: readonly string[]): PredictionRecord {
  const window = windowSamples(f);
  const top = topK(meanProbabilities(p.probs, classes.length), classes);
  const windows =
    p.probs.length > 1
      ? p.probs.map((q, i) => ({ start: p.starts[i]! / f.sampleRate, end: Math.min(length, p.starts[i]! + window) / f.sampleRate, top: topK(q, classes) }))
      : undefined;
  return { file, seconds: length / f.sampleRate, top, windows };
}
