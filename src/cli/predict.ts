// `ser predict`: top-3 emotions per file, and per window over time for clips
// longer than the model's window.
import { resolve } from 'node:path';
import { getGpu } from '../kernels/gpu.js';
import { MelFrontend } from '../dsp/frontend.js';
import { loadClip } from '../train/prepare.js';
import { loadTrainedModel } from '../train/run.js';
import { Engine } from '../train/engine.js';
import { parse, UsageError } from './args.js';

const HELP = `Usage: ser predict --model CKPT FILE… [--json]

Prints the three most probable emotions of each file with their probabilities.
A clip longer than the model's window (timesteps × frames × hop samples, about
4.2 s by default) is also scored window by window (half-window hop), and the
file's prediction is the mean of its windows' probabilities.

  --model CKPT   e.g. runs/x/best.safetensors (config.json beside it)
  --json         one JSON object per line per file`;

export interface Top {
  emotion: string;
  probability: number;
}

export function topK(probs: ArrayLike<number>, classes: readonly string[], k = 3): Top[] {
  return Array.from(probs, (p, i) => ({ emotion: classes[i]!, probability: p }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

export async function predict(argv: string[]): Promise<number> {
  const args = parse(argv, { model: { type: 'string' }, json: { type: 'boolean' } }, HELP, true);
  if (!args) return 0;
  const v = args.values;
  if (!v.model) throw new UsageError(`--model CKPT is required\n\n${HELP}`);
  if (args.positionals.length === 0) throw new UsageError(`no input files\n\n${HELP}`);
  const gpu = await getGpu();
  const { model, config } = await loadTrainedModel(gpu, resolve(String(v.model)));
  const f = config.features;
  const frontend = new MelFrontend(gpu, f);
  const engine = new Engine(gpu, model, 16, Float32Array.from(config.loss.alpha), config.loss.gamma);
  const windowSamples = f.timesteps * f.framesPerStep * f.hop;
  const c = config.classes.length;
  let failures = 0;
  for (const file of args.positionals) {
    let clip: Float32Array;
    try {
      clip = await loadClip(file, f.sampleRate);
    } catch (e) {
      console.error(`ser predict: ${(e as Error).message}`);
      failures++;
      continue;
    }
    // Windows of the model's length with a half-window hop; one window for short clips.
    const starts: number[] = [0];
    for (let s = windowSamples / 2; s + windowSamples <= clip.length; s += windowSamples / 2) starts.push(s);
    const windows = starts.map((s) => clip.subarray(s, Math.min(clip.length, s + windowSamples)));
    const inputs = await frontend.modelInputs(windows.map((w) => Float32Array.from(w)));
    const perWindow: Float32Array[] = [];
    for (let s = 0; s < inputs.length; s += 16) {
      const part = inputs.slice(s, s + 16);
      const x = new Float32Array(part.length * engine.sampleSize);
      part.forEach((p, i) => x.set(p, i * engine.sampleSize));
      const r = await engine.predictBatch(x, null, part.length);
      for (let i = 0; i < part.length; i++) perWindow.push(r.probs.slice(i * c, (i + 1) * c));
    }
    const mean = new Float32Array(c);
    for (const p of perWindow) p.forEach((q, i) => (mean[i]! += q / perWindow.length));
    const top = topK(mean, config.classes);
    const windowsOut = perWindow.length > 1 ? perWindow.map((p, i) => ({ start: starts[i]! / f.sampleRate, end: Math.min(clip.length, starts[i]! + windowSamples) / f.sampleRate, top: topK(p, config.classes) })) : undefined;
    if (v.json) {
      console.log(JSON.stringify({ file, seconds: clip.length / f.sampleRate, top, windows: windowsOut }));
    } else {
      console.log(`${file}  (${(clip.length / f.sampleRate).toFixed(2)} s)`);
      for (const t of top) console.log(`  ${t.emotion.padEnd(10)} ${(t.probability * 100).toFixed(1).padStart(5)}%  ${'█'.repeat(Math.round(t.probability * 30))}`);
      if (windowsOut) {
        for (const w of windowsOut) console.log(`    ${w.start.toFixed(1).padStart(6)}–${w.end.toFixed(1).padEnd(6)} s  ${w.top.map((t) => `${t.emotion} ${(t.probability * 100).toFixed(0)}%`).join(', ')}`);
      }
    }
  }
  return failures > 0 ? 1 : 0;
}
