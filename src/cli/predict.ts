// `ser predict`: top-3 emotions per file, and per window over time for clips
// longer than the model's window.
import { resolve } from 'node:path';
import { getGpu } from '../kernels/gpu.js';
import { MelFrontend } from '../dsp/frontend.js';
import { loadClip } from '../train/prepare.js';
import { loadTrainedModel } from '../train/run.js';
import { Engine } from '../train/engine.js';
import { predictClip, predictionRecord } from '../train/predict.js';
import { parseCommand, UsageError, type CommandDef, type OptionDef } from './args.js';

export { topK, type Top } from '../train/predict.js';

const PREDICT = {
  usage: 'Usage: ser predict --model CKPT FILE… [--json]',
  about: `Prints the three most probable emotions of each file with their probabilities.
A clip longer than the model's window (timesteps × frames × hop samples, about
4.2 s by default) is also scored window by window (half-window hop), and the
file's prediction is the mean of its windows' probabilities.`,
  options: {
    model: { kind: 'string', arg: 'CKPT', help: 'e.g. runs/x/best.safetensors (config.json beside it)' },
    json: { kind: 'flag', help: 'one JSON object per line per file' },
  },
  positionals: true,
} as const satisfies CommandDef<Record<string, OptionDef>>;

export async function predict(argv: string[]): Promise<number> {
  const args = parseCommand(argv, PREDICT);
  if (!args) return 0;
  const v = args.values;
  if (!v.model) throw new UsageError(`--model CKPT is required\n\n${args.help}`);
  if (args.positionals.length === 0) throw new UsageError(`no input files\n\n${args.help}`);
  const gpu = await getGpu();
  const { model, config } = await loadTrainedModel(gpu, resolve(String(v.model)));
  const f = config.features;
  const frontend = new MelFrontend(gpu, f);
  const engine = new Engine(gpu, model, 16, Float32Array.from(config.loss.alpha), config.loss.gamma);
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
    const record = predictionRecord(file, clip.length, f, await predictClip(frontend, engine, clip), config.classes);
    if (v.json) {
      console.log(JSON.stringify(record));
    } else {
      console.log(`${file}  (${record.seconds.toFixed(2)} s)`);
      for (const t of record.top) console.log(`  ${t.emotion.padEnd(10)} ${(t.probability * 100).toFixed(1).padStart(5)}%  ${'█'.repeat(Math.round(t.probability * 30))}`);
      if (record.windows) {
        for (const w of record.windows) console.log(`    ${w.start.toFixed(1).padStart(6)}–${w.end.toFixed(1).padEnd(6)} s  ${w.top.map((t) => `${t.emotion} ${(t.probability * 100).toFixed(0)}%`).join(', ')}`);
      }
    }
  }
  return failures > 0 ? 1 : 0;
}
