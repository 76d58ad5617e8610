// The page's engine: a run's model fetched from the server (config.json and
// best.safetensors), checked and loaded onto the GPU, and the two ways the page
// predicts — a file, window by window exactly as `ser predict` does, and one
// window of live audio. Everything numeric is the command line's code:
// decodeAudio and resample (src/dsp), MelFrontend, Ser3dCnn, Engine and
// predictClip (src/train/predict.ts).
import type { Gpu } from '../kernels/gpu-core.js';
import { MelFrontend, validateSettings, type FrontendSettings } from '../dsp/frontend.js';
import { decodeAudio } from '../dsp/wav.js';
import { resample } from '../dsp/resample.js';
import { Ser3dCnn } from '../model/ser3dcnn.js';
import { expectedTensors, restore } from '../model/checkpoint.js';
import { parseSafetensors } from '../model/safetensors.js';
import { Engine } from '../train/engine.js';
import { predictClip, predictionRecord, windowSamples, type ClipPrediction, type PredictionRecord } from '../train/predict.js';
import type { RunConfig } from '../train/run.js';
import { PageError } from './errors.js';

/** Longest file the page decodes, as `ser predict` (loadClip's default). */
const MAX_SECONDS = 600;

export interface Session {
  gpu: Gpu;
  config: RunConfig;
  frontend: MelFrontend;
  engine: Engine;
  classes: string[];
  /** The model's window in samples at `sampleRate`. */
  window: number;
  sampleRate: number;
  parameters: number;
}

/** The parts of config.json the page needs, checked so that a broken file gets a sentence, not a stack. */
export function checkConfig(raw: unknown): RunConfig {
  const c = raw as Partial<RunConfig> | null;
  const bad = (what: string): never => {
    throw new PageError(`The served config.json is not a usable ser-webgpu model config: ${what}.`);
  };
  if (!c || typeof c !== 'object' || c.format !== 'ser-webgpu') bad('its "format" is not "ser-webgpu"');
  if (!Array.isArray(c!.classes) || c!.classes.length < 2 || !c!.classes.every((x) => typeof x === 'string')) bad('"classes" must list at least two class names');
  if (!(typeof c!.width === 'number' && c!.width > 0)) bad('"width" must be a positive number');
  const f = c!.features as FrontendSettings | undefined;
  if (!f || typeof f !== 'object') bad('"features" (the front end settings) is missing');
  try {
    validateSettings(f!);
  } catch (e) {
    bad(`"features": ${(e as Error).message}`);
  }
  const want = [f!.timesteps, f!.nMels, f!.framesPerStep, 1];
  if (!Array.isArray(c!.input) || c!.input.length !== 4 || c!.input.some((d, i) => d !== want[i])) bad(`"input" must be [${want.join(', ')}] for these features`);
  const alpha = c!.loss?.alpha;
  if (!Array.isArray(alpha) || alpha.length !== c!.classes!.length) bad('"loss.alpha" must have one weight per class');
  return c as RunConfig;
}

async function fetchOk(url: string, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new PageError(`Cannot reach the server for ${what} (${(e as Error).message}). Is \`ser serve\` still running?`);
  }
  if (!res.ok) throw new PageError(`The server has no ${what} (HTTP ${res.status}). Restart \`ser serve\` with a run folder that holds best.safetensors and config.json.`);
  return res;
}

/** Fetches the run at `base` (`model/`), builds its network and loads the checkpoint into it. */
export async function loadSession(gpu: Gpu, base = 'model/'): Promise<Session> {
  let raw: unknown;
  try {
    raw = await (await fetchOk(`${base}config.json`, 'config.json')).json();
  } catch (e) {
    if (e instanceof PageError) throw e;
    throw new PageError(`The served config.json is not JSON (${(e as Error).message}).`);
  }
  const config = checkConfig(raw);
  const bytes = new Uint8Array(await (await fetchOk(`${base}best.safetensors`, 'checkpoint')).arrayBuffer());
  const model = new Ser3dCnn(gpu, { classes: config.classes, input: config.input, width: config.width, bnMomentum: config.bnMomentum });
  // The checkpoint must hold exactly the tensors, with the shapes, that config.json's network has (CheckpointError otherwise).
  const { tensors } = parseSafetensors('best.safetensors', bytes, expectedTensors(model, false));
  restore(gpu, model, tensors);
  const frontend = new MelFrontend(gpu, config.features);
  const engine = new Engine(gpu, model, 16, Float32Array.from(config.loss.alpha), config.loss.gamma);
  await gpu.sync();
  return {
    gpu,
    config,
    frontend,
    engine,
    classes: config.classes,
    window: windowSamples(frontend.settings),
    sampleRate: frontend.settings.sampleRate,
    parameters: model.parameterCount,
  };
}

/** GPU work of the page runs one piece at a time (the live loop and a dropped file may overlap). */
let queue: Promise<unknown> = Promise.resolve();
function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const next = queue.then(work, work);
  queue = next.catch(() => undefined);
  return next;
}

export interface FilePrediction {
  record: PredictionRecord;
  prediction: ClipPrediction;
  /** Wall time of the front end and the network for the whole file (decoding excluded). */
  ms: number;
}

/** A dropped or picked file: decoded by our decoder, resampled by ours, scored as `ser predict` scores it. */
export async function predictFile(s: Session, bytes: Uint8Array, name: string): Promise<FilePrediction> {
  // What loadClip (src/train/prepare.ts) does with a file's bytes.
  const audio = decodeAudio(bytes, name, { maxSeconds: MAX_SECONDS });
  const clip = audio.sampleRate === s.sampleRate ? audio.samples : resample(audio.samples, audio.sampleRate, s.sampleRate);
  return exclusive(async () => {
    const t0 = performance.now();
    const prediction = await predictClip(s.frontend, s.engine, clip, { spectrograms: true });
    const ms = performance.now() - t0;
    return { record: predictionRecord(name, clip.length, s.frontend.settings, prediction, s.classes), prediction, ms };
  });
}

export interface WindowPrediction {
  probs: Float32Array;
  frames: number;
  scaled: Float32Array;
  /** Wall time of the front end and the network for this window, readbacks included. */
  ms: number;
}

/** One window of live audio (already at the model's rate, `s.window` samples). */
export function predictWindow(s: Session, clip: Float32Array): Promise<WindowPrediction> {
  return exclusive(async () => {
    const t0 = performance.now();
    const p = await predictClip(s.frontend, s.engine, clip, { spectrograms: true });
    const ms = performance.now() - t0;
    const spec = p.spectrograms![0]!;
    return { probs: p.probs[0]!, frames: spec.frames, scaled: spec.scaled, ms };
  });
}
