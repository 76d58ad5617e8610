// The built-in synthetic emotional-speech corpus: speech-like utterances from a
// source–filter model whose prosody follows each emotion's published acoustic profile,
// spoken by several synthetic speakers, written as 16-bit WAV files that the normal
// loader reads. The model and its parameter tables are described in docs/SYNTH.md.
//
// Layout written by writeSyntheticCorpus(dir):
//   dir/manifest.json
//   dir/<speaker>/<speaker>_<emotion>_<nn>.wav     e.g. dir/s03/s03_angry_07.wav
// Take nn speaks sentence (nn - 1) mod 10, so like EmoDB every sentence is spoken in
// every emotion and only the way it is spoken tells the emotions apart.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { Rng, deriveSeed } from '../util/rng.js';
import { makeSentence, planUtterance } from './synth/prosody.js';
import { render } from './synth/voice.js';
import { EMOTIONS, SIGNATURES, SPEAKERS, sampleParams, speakerVoice, type Emotion } from './synth/voices.js';

export { EMOTIONS, SIGNATURES, SPEAKERS, speakerVoice, type Emotion };

export const SYNTH_SAMPLE_RATE = 22050;
const SENTENCES = 10;

export interface UtteranceOptions {
  emotion: Emotion;
  speaker: number; // index: 0..7 are the table in voices.ts, later ones are variations of them
  seed: number; // everything random about the delivery; same seed → bit-identical audio
  text?: number; // which sentence; defaults to one drawn from the seed
  sampleRate?: number;
  seconds?: number;
}

/** One utterance, mono float samples in [-1, 1]. */
export function synthesizeUtterance(o: UtteranceOptions): Float32Array {
  const fs = o.sampleRate ?? SYNTH_SAMPLE_RATE;
  const seconds = o.seconds ?? 2;
  const sig = SIGNATURES[o.emotion];
  if (!sig) throw new Error(`unknown emotion '${o.emotion}' (expected one of ${EMOTIONS.join(', ')})`);
  const n = Math.round(seconds * fs);
  const voice = speakerVoice(o.speaker);
  const params = sampleParams(sig, voice, new Rng(deriveSeed(o.seed, 1)));
  const text = makeSentence(new Rng(o.text === undefined ? deriveSeed(o.seed, 2) : deriveSeed(0x7e47, o.text)), seconds);
  const plan = planUtterance(text, params, fs, n, new Rng(deriveSeed(o.seed, 3)));
  return render(plan, params, fs, new Rng(deriveSeed(o.seed, 4)));
}

/** 16-bit PCM mono WAV bytes of float samples (clipped to [-1, 1]). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) pcm[i] = Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767);
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, sampleRate, '16', pcm);
  return wav.toBuffer();
}

export interface CorpusOptions {
  speakers?: number; // default 8
  perEmotionPerSpeaker?: number; // takes of each emotion by each speaker, default 10
  seed?: number; // default 1
  seconds?: number; // default 2
  sampleRate?: number; // default 22050
}

/** Synthesises speakers × 7 emotions × perEmotionPerSpeaker clips into dir. */
export async function writeSyntheticCorpus(dir: string, opts: CorpusOptions = {}): Promise<{ count: number; files: string[] }> {
  const speakers = opts.speakers ?? SPEAKERS.length;
  const takes = opts.perEmotionPerSpeaker ?? 10;
  const seed = opts.seed ?? 1;
  const seconds = opts.seconds ?? 2;
  const sampleRate = opts.sampleRate ?? SYNTH_SAMPLE_RATE;
  if (takes > 99) throw new Error(`perEmotionPerSpeaker must be at most 99, got ${takes}`);
  const files: string[] = [];
  for (let s = 0; s < speakers; s++) {
    const id = speakerVoice(s).id;
    await mkdir(join(dir, id), { recursive: true });
    for (let e = 0; e < EMOTIONS.length; e++) {
      for (let k = 0; k < takes; k++) {
        const emotion = EMOTIONS[e]!;
        const audio = synthesizeUtterance({ emotion, speaker: s, seed: deriveSeed(seed, s, e, k), text: k % SENTENCES, sampleRate, seconds });
        const path = join(dir, id, `${id}_${emotion}_${String(k + 1).padStart(2, '0')}.wav`);
        await writeFile(path, encodeWav16(audio, sampleRate));
        files.push(path);
      }
    }
  }
  const manifest = { generator: 'ser-webgpu synthetic corpus v1', seed, speakers, perEmotionPerSpeaker: takes, seconds, sampleRate, emotions: EMOTIONS, count: files.length };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { count: files.length, files };
}

export interface SynthItem {
  path: string;
  corpus: 'synth';
  speaker: string;
  emotion: Emotion;
  label: number; // index in EMOTIONS
}

const FILE_NAME = /^(s\d+)_([a-z]+)_(\d+)\.wav$/;

/** Every clip under dir named as writeSyntheticCorpus names them, sorted by path; other files are ignored. */
export async function scanSynthCorpus(dir: string): Promise<SynthItem[]> {
  const items: SynthItem[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const sub of entries.filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const name of (await readdir(join(dir, sub))).sort()) {
      const m = FILE_NAME.exec(name);
      if (!m || m[1] !== sub) continue;
      const label = (EMOTIONS as readonly string[]).indexOf(m[2]!);
      if (label < 0) continue;
      items.push({ path: join(dir, sub, name), corpus: 'synth', speaker: m[1]!, emotion: EMOTIONS[label]!, label });
    }
  }
  return items;
}
