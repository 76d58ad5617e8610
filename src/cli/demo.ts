// `ser demo`: the whole pipeline on a built-in synthetic emotional-speech corpus,
// for a user with no corpus on disk. Synthesise → WAV files → the same loader,
// GPU front end and training path as `ser train` → report → predictions.
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { getGpu } from '../kernels/gpu.js';
import { writeSyntheticCorpus, scanSynthCorpus } from '../data/synth.js';
import { splitItems } from '../data/split.js';
import { CLASS_NAMES } from '../data/sources.js';
import { DEFAULT_RUN, loadTrainedModel, trainRun } from '../train/run.js';
import { MelFrontend } from '../dsp/frontend.js';
import { Engine } from '../train/engine.js';
import { loadClip } from '../train/prepare.js';
import { topK } from './predict.js';
import { num, parseCommand, type CommandDef, type OptionDef } from './args.js';

/** Corpus sizes of the demo: more speakers teach speaker independence better than more takes of each. */
const DEMO_CPU = { speakers: 16, takes: 3 };
const DEMO_GPU = { speakers: 16, takes: 12 };
/**
 * Utterance length: the model's window is 3 × 60 frames of 512 samples at 22050 Hz
 * (4.18 s); shorter clips are zero-padded, so a clip that fills the window gives
 * the network more speech at the same cost per sample.
 */
const DEMO_SECONDS = 4;

const DEMO = {
  usage: 'Usage: ser demo [--out DIR] [--width F] [--epochs N] [--budget S] [--speakers N] [--seconds S] [--takes N] [--seed N] [--json]',
  about: `Synthesises a deterministic emotional-speech corpus (synthetic speakers × 7
emotions), writes it as WAV files, trains the report's network on a
speaker-independent split (speakers of the test split are never heard in
training), prints the test report, and predicts a few held-out clips.`,
  options: {
    out: { kind: 'string', arg: 'DIR', help: 'run folder; the corpus goes to DIR/corpus', default: 'runs/demo' },
    width: { kind: 'string', arg: 'F', help: 'network width multiplier (default: 1 on a GPU, 0.125 on a CPU adapter)' },
    epochs: { kind: 'string', arg: 'N', help: 'maximum epochs (default: 40 on a GPU, 32 on a CPU adapter)' },
    budget: { kind: 'number', arg: 'S', help: 'stop starting new epochs after S seconds of training', default: 500, min: 1 },
    speakers: { kind: 'string', arg: 'N', help: `synthetic speakers (default: ${DEMO_GPU.speakers} on a GPU, ${DEMO_CPU.speakers} on a CPU adapter)` },
    seconds: { kind: 'number', arg: 'S', help: "utterance length in seconds; the model's window holds 4.18 s", default: DEMO_SECONDS, min: 0.5, max: 30 },
    takes: { kind: 'string', arg: 'N', help: `utterances per speaker and emotion (default: ${DEMO_GPU.takes} on a GPU, ${DEMO_CPU.takes} on a CPU adapter)` },
    augment: { kind: 'string', arg: 'N', help: 'augmented copies of each training clip (default: 1 on a GPU, 0 on a CPU adapter)' },
    seed: { kind: 'int', arg: 'N', help: 'seed', default: 0, min: 0 },
    json: { kind: 'flag', help: 'print {test_accuracy, seconds, …} as the last line' },
  },
} as const satisfies CommandDef<Record<string, OptionDef>>;

export async function demo(argv: string[]): Promise<number> {
  const args = parseCommand(argv, DEMO);
  if (!args) return 0;
  const v = args.values;
  const t0 = performance.now();
  // Options are checked before the GPU starts; the defaults of some depend on the adapter.
  const given = (name: 'width' | 'epochs' | 'takes' | 'speakers' | 'augment', o: Parameters<typeof num>[3]): number | undefined => (v[name] === undefined ? undefined : num(v[name], name, 0, o));
  const widthArg = given('width', { min: 0.01 });
  const epochsArg = given('epochs', { integer: true, min: 1 });
  const takesArg = given('takes', { integer: true, min: 1, max: 99 });
  const speakersArg = given('speakers', { integer: true, min: 3, max: 64 });
  const clipSeconds = v.seconds;
  const seed = v.seed;
  const budget = v.budget;
  const augmentArg = given('augment', { integer: true, min: 0 });
  const gpu = await getGpu();
  // A software (CPU) adapter trains a narrower network on fewer clips to finish in minutes.
  const cpu = gpu.summary.isFallback || gpu.summary.architecture === 'software';
  const out = resolve(v.out);
  const width = widthArg ?? (cpu ? 0.125 : 1);
  const epochs = epochsArg ?? (cpu ? 32 : 40);
  const takes = takesArg ?? (cpu ? DEMO_CPU.takes : DEMO_GPU.takes);
  const speakers = speakersArg ?? (cpu ? DEMO_CPU.speakers : DEMO_GPU.speakers);
  const augmentCopies = augmentArg ?? (cpu ? 0 : 1);
  const say = (s: string): void => {
    if (!v.json) console.log(s);
    else console.error(s);
  };

  say(`ser demo on ${gpu.summary.description || gpu.summary.device} (${cpu ? 'CPU adapter: width ' + width : 'GPU'})`);
  const corpusDir = join(out, 'corpus');
  const manifestPath = join(corpusDir, 'manifest.json');
  const wanted = { seed: seed + 1, speakers, perEmotionPerSpeaker: takes, seconds: clipSeconds };
  const existing = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof wanted) : null;
  if (!existing || existing.seed !== wanted.seed || existing.speakers !== wanted.speakers || existing.perEmotionPerSpeaker !== wanted.perEmotionPerSpeaker || existing.seconds !== wanted.seconds) {
    const ts = performance.now();
    // A corpus of other settings (our manifest says so) is replaced, not mixed with the new one.
    if (existing) await rm(corpusDir, { recursive: true });
    const w = await writeSyntheticCorpus(corpusDir, { seed: wanted.seed, speakers, perEmotionPerSpeaker: takes, seconds: clipSeconds });
    say(`1/4 synthesised ${w.count} utterances into ${corpusDir} (${((performance.now() - ts) / 1000).toFixed(1)} s)`);
  } else {
    say(`1/4 synthetic corpus already in ${corpusDir}`);
  }
  const items = await scanSynthCorpus(corpusDir);
  const split = splitItems(items, { seed, mode: 'speaker' });
  const speakersOf = (xs: { speaker: string }[]): string => [...new Set(xs.map((x) => x.speaker))].sort().join(' ');
  say(`2/4 speaker-independent split: train ${speakersOf(split.train)} | val ${speakersOf(split.val)} | test ${speakersOf(split.test)}`);
  say('3/4 features on the GPU, then training');
  const result = await trainRun(gpu, items, {
    ...DEFAULT_RUN,
    out,
    classes: CLASS_NAMES,
    epochs,
    width,
    seed,
    augmentCopies,
    split: 'speaker',
    presplit: split,
    // A demo run has a few hundred steps, too few for Keras' 0.99 running statistics to settle.
    bnMomentum: 0.9,
    cacheDir: join(out, 'features-cache'),
    timeBudgetSeconds: budget,
    callbacks: { ...DEFAULT_RUN.callbacks, earlyStoppingPatience: 6, reduceLrPatience: 3 },
    quiet: false,
    extraConfig: { data: [`synth=${corpusDir}`], demo: true },
  });
  say(`\nTest split — speakers never heard in training (${result.test.support} clips):\n${result.testText}`);

  say('4/4 predictions for a few held-out clips (best.safetensors):');
  const { model, config } = await loadTrainedModel(gpu, join(out, 'best.safetensors'));
  const engine = new Engine(gpu, model, 8, Float32Array.from(config.loss.alpha), config.loss.gamma);
  const frontend = new MelFrontend(gpu, config.features);
  const picks = CLASS_NAMES.map((e) => split.test.find((it) => it.emotion === e)).filter((x) => x !== undefined).slice(0, 4);
  const inputs = await frontend.modelInputs(await Promise.all(picks.map((p) => loadClip(p.path, config.features.sampleRate))));
  const x = new Float32Array(inputs.length * engine.sampleSize);
  inputs.forEach((p, i) => x.set(p, i * engine.sampleSize));
  const r = await engine.predictBatch(x, null, inputs.length);
  picks.forEach((p, i) => {
    const top = topK(r.probs.subarray(i * CLASS_NAMES.length, (i + 1) * CLASS_NAMES.length), CLASS_NAMES);
    say(`  ${p.path.slice(corpusDir.length + 1)} (true: ${p.emotion}) → ${top.map((t) => `${t.emotion} ${(t.probability * 100).toFixed(0)}%`).join(', ')}`);
  });

  const seconds = (performance.now() - t0) / 1000;
  say(`\nDone in ${seconds.toFixed(0)} s: speaker-independent test accuracy ${(result.test.accuracy * 100).toFixed(1)}%, macro F1 ${result.test.macro_f1.toFixed(3)}.`);
  say(`Run folder ${out}: best.safetensors, config.json, history.json, curves.svg, confusion.svg, test_report.txt`);
  say('Train on real corpora with:\n  npx ser train --data ravdess=DIR --data tess=DIR --data savee=DIR --data emodb=DIR --out runs/report');
  say(`Try it live from a microphone in the browser: npx ser serve${out === resolve('runs/demo') ? '' : ` ${out}`}`);
  if (v.json) {
    console.log(
      JSON.stringify({
        test_accuracy: result.test.accuracy,
        macro_f1: result.test.macro_f1,
        seconds,
        epochs: result.fit.history.length,
        width,
        parameters: result.parameterCount,
        adapter: gpu.summary.description,
        out,
      }),
    );
  }
  return 0;
}
