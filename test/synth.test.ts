import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { EMOTIONS, SPEAKERS, scanSynthCorpus, speakerVoice, synthesizeUtterance, writeSyntheticCorpus, type Emotion } from '../src/data/synth.js';
import { deriveSeed } from '../src/util/rng.js';
import { fftRef as fft } from '../src/ref/melspec.js';

const FS = 22050;

// Measured acoustic cues: each emotion's signature must show in the audio by at least
// these margins (means over speakers × takes; the cues are described in analyse()).
const MARGINS = {
  loudAngryOverNeutralDb: 5,
  loudNeutralOverSadDb: 5,
  highOverLowF0Semitones: 4, // min(happy, fearful, surprised) over max(sad, disgust)
  wideOverSadRangeSemitones: 1.5, // f0 sd of happy and surprised over sad
  surprisedRiseSemitones: 2, // last quarter minus first quarter of the voiced pitch
  disgustFallSemitones: -3,
  brightAngryOverSadDb: 4,
  slowSadOverAngrySeconds: 0.3, // time from first to last voiced frame, same sentences
  periodicityNeutralOverDisgust: 0.05, // jitter, shimmer and creak lower the autocorrelation peak
};


interface Cues {
  rmsDb: number; // mean energy of voiced frames
  f0: number; // mean pitch of voiced frames, semitones re 1 Hz
  f0Sd: number; // pitch spread, semitones
  slope: number; // mean pitch of the last voiced quarter minus the first, semitones
  alphaDb: number; // energy 1–5 kHz over energy below 1 kHz in the loud voiced frames
  span: number; // seconds from the first to the last voiced frame
  periodicity: number; // mean normalised autocorrelation peak of voiced frames
}

/**
 * Autocorrelation pitch tracker at half rate (30 ms frames, 10 ms hop, 60–700 Hz; the first
 * lag within 85% of the best peak, to avoid octave-down errors) and simple spectral cues.
 */
function analyse(x: Float32Array): Cues {
  const m = Math.floor(x.length / 2);
  const d = new Float64Array(m);
  for (let i = 0; i < m; i++) d[i] = 0.25 * (x[2 * i - 1] ?? 0) + 0.5 * x[2 * i]! + 0.25 * (x[2 * i + 1] ?? 0);
  const fd = FS / 2;
  const win = Math.round(0.03 * fd);
  const hop = Math.round(0.01 * fd);
  const minLag = Math.floor(fd / 700);
  const maxLag = Math.ceil(fd / 60);
  const frames: { start: number; e: number; f0: number; r: number }[] = [];
  let emax = 0;
  for (let s = 0; s + win + maxLag <= m; s += hop) {
    let e = 0;
    for (let i = 0; i < win; i++) e += d[s + i]! ** 2;
    emax = Math.max(emax, e);
    frames.push({ start: s, e, f0: 0, r: 0 });
  }
  const r = new Float64Array(maxLag + 2);
  for (const f of frames) {
    if (f.e < emax * 1e-3) continue;
    let best = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let c = 0;
      let e2 = 0;
      for (let i = 0; i < win; i++) {
        c += d[f.start + i]! * d[f.start + i + lag]!;
        e2 += d[f.start + i + lag]! ** 2;
      }
      r[lag] = c / Math.sqrt(f.e * e2 + 1e-30);
      best = Math.max(best, r[lag]!);
    }
    for (let lag = minLag + 1; lag < maxLag; lag++) {
      if (r[lag]! >= 0.85 * best && r[lag]! >= r[lag - 1]! && r[lag]! >= r[lag + 1]!) {
        if (best > 0.5) f.f0 = fd / lag;
        break;
      }
    }
    f.r = best;
  }
  const voiced = frames.filter((f) => f.f0 > 0);
  const mean = (a: number[]) => a.reduce((p, c) => p + c, 0) / Math.max(1, a.length);
  const st = voiced.map((f) => 12 * Math.log2(f.f0));
  const f0 = mean(st);
  const q = Math.max(1, Math.floor(st.length / 4));

  let low = 0;
  let high = 0;
  const N = 512;
  for (const f of voiced) {
    if (f.e < 0.1 * emax || 2 * f.start + N > x.length) continue;
    const re = new Float64Array(N);
    const im = new Float64Array(N);
    for (let i = 0; i < N; i++) re[i] = x[2 * f.start + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N));
    fft(re, im);
    for (let k = 1; k <= N / 2; k++) {
      const hz = (k * FS) / N;
      const p = re[k]! ** 2 + im[k]! ** 2;
      if (hz < 1000) low += p;
      else if (hz < 5000) high += p;
    }
  }
  return {
    rmsDb: 10 * Math.log10(mean(voiced.map((f) => f.e / win)) + 1e-20),
    f0,
    f0Sd: Math.sqrt(mean(st.map((s) => (s - f0) ** 2))),
    slope: mean(st.slice(-q)) - mean(st.slice(0, q)),
    alphaDb: 10 * Math.log10(high / (low + 1e-30)),
    span: voiced.length ? (voiced[voiced.length - 1]!.start - voiced[0]!.start) / fd : 0,
    periodicity: mean(voiced.map((f) => f.r)),
  };
}

function checkAudio(x: Float32Array, label: string): void {
  let peak = 0;
  let energy = 0;
  let finite = true;
  for (const v of x) {
    finite &&= Number.isFinite(v);
    peak = Math.max(peak, Math.abs(v));
    energy += v * v;
  }
  expect(finite, `${label}: finite`).toBe(true);
  expect(peak, `${label}: peak`).toBeLessThanOrEqual(1);
  expect(Math.sqrt(energy / x.length), `${label}: not silent`).toBeGreaterThan(1e-3);
}

describe('synthetic speech', () => {
  it('is deterministic: same seed gives bit-identical audio, another seed or sentence differs', () => {
    const a = synthesizeUtterance({ emotion: 'angry', speaker: 3, seed: 42 });
    const b = synthesizeUtterance({ emotion: 'angry', speaker: 3, seed: 42 });
    expect(a.length).toBe(2 * FS);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const maxDiff = (u: Float32Array, v: Float32Array) => u.reduce((m, x, i) => Math.max(m, Math.abs(x - v[i]!)), 0);
    const c = synthesizeUtterance({ emotion: 'angry', speaker: 3, seed: 43 });
    const t = synthesizeUtterance({ emotion: 'angry', speaker: 3, seed: 42, text: 5 });
    console.log(`max |seed 42 - seed 43| = ${maxDiff(a, c).toFixed(3)}, max |text default - text 5| = ${maxDiff(a, t).toFixed(3)}`);
    expect(maxDiff(a, c)).toBeGreaterThan(0.05);
    expect(maxDiff(a, t)).toBeGreaterThan(0.05);
  });

  it('honours sample rate and duration, with no NaN and peaks within [-1, 1]', () => {
    const x = synthesizeUtterance({ emotion: 'surprised', speaker: 7, seed: 1, sampleRate: 16000, seconds: 1.5 });
    expect(x.length).toBe(24000);
    checkAudio(x, '16 kHz surprised');
    // The loudest setting, to exercise the limiter.
    for (let k = 0; k < 4; k++) checkAudio(synthesizeUtterance({ emotion: 'angry', speaker: 2 * k + 1, seed: k }), `angry ${k}`);
  });

  it("shows each emotion's prosodic signature in measured cues", () => {
    const speakers = [0, 1, 2, 3];
    const takes = 3;
    const cues = {} as Record<Emotion, Cues>;
    for (const [e, emotion] of EMOTIONS.entries()) {
      const all: Cues[] = [];
      for (const s of speakers) {
        for (let k = 0; k < takes; k++) {
          // Same sentences in every emotion, so only the delivery differs.
          const x = synthesizeUtterance({ emotion, speaker: s, seed: deriveSeed(9, s, e, k), text: k });
          checkAudio(x, `${emotion} s${s} k${k}`);
          all.push(analyse(x));
        }
      }
      const avg = {} as Cues;
      for (const key of Object.keys(all[0]!) as (keyof Cues)[]) avg[key] = all.reduce((p, c) => p + c[key], 0) / all.length;
      cues[emotion] = avg;
    }
    console.log('emotion    rms dB  f0 Hz  f0 sd  slope  alpha dB  span s  periodicity');
    for (const e of EMOTIONS) {
      const c = cues[e];
      console.log(`${e.padEnd(10)} ${c.rmsDb.toFixed(1).padStart(6)} ${(2 ** (c.f0 / 12)).toFixed(0).padStart(6)} ${c.f0Sd.toFixed(2).padStart(6)} ${c.slope.toFixed(2).padStart(6)} ${c.alphaDb.toFixed(1).padStart(9)} ${c.span.toFixed(2).padStart(7)} ${c.periodicity.toFixed(3).padStart(12)}`);
    }
    const M = MARGINS;
    expect(cues.angry.rmsDb - cues.neutral.rmsDb).toBeGreaterThan(M.loudAngryOverNeutralDb);
    expect(cues.neutral.rmsDb - cues.sad.rmsDb).toBeGreaterThan(M.loudNeutralOverSadDb);
    const highF0 = Math.min(cues.happy.f0, cues.fearful.f0, cues.surprised.f0);
    const lowF0 = Math.max(cues.sad.f0, cues.disgust.f0);
    expect(highF0 - lowF0).toBeGreaterThan(M.highOverLowF0Semitones);
    expect(Math.min(cues.happy.f0Sd, cues.surprised.f0Sd) - cues.sad.f0Sd).toBeGreaterThan(M.wideOverSadRangeSemitones);
    expect(cues.surprised.slope).toBeGreaterThan(M.surprisedRiseSemitones);
    for (const e of EMOTIONS) if (e !== 'surprised') expect(cues.surprised.slope, e).toBeGreaterThan(cues[e].slope);
    expect(cues.disgust.slope).toBeLessThan(M.disgustFallSemitones);
    expect(cues.angry.alphaDb - cues.sad.alphaDb).toBeGreaterThan(M.brightAngryOverSadDb);
    expect(cues.angry.alphaDb).toBeGreaterThan(cues.neutral.alphaDb);
    expect(cues.sad.span - cues.angry.span).toBeGreaterThan(M.slowSadOverAngrySeconds);
    expect(cues.sad.span).toBeGreaterThan(cues.neutral.span);
    expect(cues.neutral.span).toBeGreaterThan(cues.angry.span);
    expect(cues.neutral.periodicity - cues.disgust.periodicity).toBeGreaterThan(M.periodicityNeutralOverDisgust);
  });

  it('gives each speaker their own pitch, female voices above male ones', () => {
    const measured = SPEAKERS.map((v, s) => {
      const st = [0, 1].map((k) => analyse(synthesizeUtterance({ emotion: 'neutral', speaker: s, seed: deriveSeed(3, s, k), text: k })).f0);
      return 2 ** ((st[0]! + st[1]!) / 24);
    });
    console.log('speaker f0 (table → measured):', SPEAKERS.map((v, s) => `${v.id} ${v.f0}→${measured[s]!.toFixed(0)}`).join(', '));
    const byTable = SPEAKERS.map((_, s) => s).sort((a, b) => SPEAKERS[a]!.f0 - SPEAKERS[b]!.f0);
    const byMeasured = SPEAKERS.map((_, s) => s).sort((a, b) => measured[a]! - measured[b]!);
    expect(byMeasured).toEqual(byTable);
    const maxMale = Math.max(...measured.filter((_, s) => SPEAKERS[s]!.sex === 'm'));
    const minFemale = Math.min(...measured.filter((_, s) => SPEAKERS[s]!.sex === 'f'));
    expect(minFemale / maxMale).toBeGreaterThan(1.2);
    // Speakers past the table are deterministic variations, not copies.
    expect(speakerVoice(9)).toEqual(speakerVoice(9));
    expect(speakerVoice(9).f0).not.toBe(speakerVoice(1).f0);
    expect(speakerVoice(9).id).toBe('s10');
  });

  it('writes 16-bit mono 22050 Hz WAV files that read back, and scans them with labels', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ser-synth-'));
    try {
      const t0 = performance.now();
      const { count, files } = await writeSyntheticCorpus(dir, { speakers: 2, perEmotionPerSpeaker: 2, seed: 5 });
      const msPerClip = (performance.now() - t0) / count;
      console.log(`wrote ${count} clips, ${msPerClip.toFixed(1)} ms per clip (synthesis + encoding + write)`);
      expect(count).toBe(2 * 7 * 2);
      expect(files).toHaveLength(count);
      expect(files[0]).toBe(join(dir, 's01', 's01_neutral_01.wav'));

      const wav = new wavefile.WaveFile(await readFile(join(dir, 's02', 's02_sad_02.wav')));
      const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
      expect([fmt.sampleRate, fmt.numChannels, fmt.bitsPerSample]).toEqual([FS, 1, 16]);
      const pcm = wav.getSamples(false, Float64Array) as unknown as Float64Array;
      expect(pcm.length).toBe(2 * FS);
      // The file holds the utterance the generator describes: speaker 1, emotion 2, take 1, sentence 1.
      const want = synthesizeUtterance({ emotion: 'sad', speaker: 1, seed: deriveSeed(5, 1, 2, 1), text: 1 });
      let maxDiff = 0;
      for (let i = 0; i < pcm.length; i++) maxDiff = Math.max(maxDiff, Math.abs(pcm[i]! / 32767 - want[i]!));
      console.log(`max |wav/32767 - synth| = ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThan(1 / 32767);

      await writeFile(join(dir, 's01', 'notes.txt'), 'not audio');
      await writeFile(join(dir, 's01', 's02_angry_01.wav'), 'speaker mismatch');
      const items = await scanSynthCorpus(dir);
      expect(items).toHaveLength(count);
      expect(items.map((it) => it.path)).toEqual([...files].sort());
      for (const it of items) {
        expect(it.corpus).toBe('synth');
        expect(it.label).toBe(EMOTIONS.indexOf(it.emotion));
        expect(it.path).toContain(`${it.speaker}_${it.emotion}_`);
      }
      expect(new Set(items.map((it) => it.speaker))).toEqual(new Set(['s01', 's02']));
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
      expect(manifest.count).toBe(count);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
