// From a "sentence" (syllables: consonant + vowel, some stressed) and an utterance's
// parameters to per-sample control tracks: pitch, voicing and frication amplitudes,
// formant targets. The renderer in voice.ts turns the tracks into a waveform.
import type { Rng } from '../../util/rng.js';
import type { UtteranceParams } from './voices.js';

export type Consonant = 'stop' | 'fricative' | 'nasal';
export interface Syllable {
  consonant: Consonant;
  place: number; // 0..1: where the consonant's noise sits in frequency (labial/low .. alveolar/high)
  vowel: number; // index into VOWELS
  stressed: boolean;
}

/** Adult male formant targets F1–F4 in Hz (Peterson & Barney 1952 / Hillenbrand 1995 averages). */
export const VOWELS: readonly { name: string; f: readonly [number, number, number, number] }[] = [
  { name: 'a', f: [730, 1090, 2440, 3400] },
  { name: 'e', f: [530, 1840, 2480, 3500] },
  { name: 'i', f: [270, 2290, 3010, 3700] },
  { name: 'o', f: [570, 840, 2410, 3400] },
  { name: 'u', f: [300, 870, 2240, 3300] },
];
const SCHWA = [500, 1500, 2500, 3500];
const NASAL = [270, 1100, 2300, 3300];

/** A random sentence of about 3 syllables per second of clip, stress on every second or third. */
export function makeSentence(rng: Rng, seconds: number): Syllable[] {
  const count = Math.max(2, Math.round(seconds * rng.uniform(2.6, 3.7)));
  const kinds: Consonant[] = ['stop', 'fricative', 'nasal'];
  const out: Syllable[] = [];
  let sinceStress = rng.int(2);
  for (let i = 0; i < count; i++) {
    const stressed = sinceStress >= 1 + rng.int(2);
    sinceStress = stressed ? 0 : sinceStress + 1;
    out.push({ consonant: kinds[rng.int(3)]!, place: rng.next(), vowel: rng.int(VOWELS.length), stressed });
  }
  return out;
}

/** Per-sample control tracks, all of length n. */
export interface Plan {
  f0: Float32Array; // Hz, defined everywhere so the glottal oscillator runs continuously
  voicing: Float32Array; // target amplitude of the voiced source (0 = voiceless)
  frication: Float32Array; // target amplitude of the noise branch (bursts, fricatives)
  fricHz: Float32Array; // centre of the noise branch's resonance
  formants: Float32Array[]; // F1..F4 targets, Hz
}

const CONTROL = 32; // samples between pitch contour evaluations (1.5 ms at 22050 Hz)
const smoothstep = (x: number) => (x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x));

/**
 * Lays the syllables out in time at the utterance's rate and draws its intonation:
 * a declination line, one accent per syllable (tall on stressed ones, peak placed by
 * accentPeak), a final rise or fall, tremor and slow drift. Speech that runs past the
 * clip is cut, as in corpora trimmed to a fixed length.
 */
export function planUtterance(text: Syllable[], p: UtteranceParams, fs: number, n: number, rng: Rng): Plan {
  const plan: Plan = {
    f0: new Float32Array(n),
    voicing: new Float32Array(n),
    frication: new Float32Array(n),
    fricHz: new Float32Array(n).fill(4000),
    formants: [0, 1, 2, 3].map((k) => new Float32Array(n).fill(SCHWA[k]! * p.vtl)),
  };
  const accents: { centre: number; sigma: number; height: number }[] = []; // in seconds and semitones
  const vowelF = (v: number) => VOWELS[v]!.f.map((f, k) => (SCHWA[k]! + p.articulation * (f - SCHWA[k]!)) * p.vtl);
  const fill = (track: Float32Array, t0: number, t1: number, value: number | ((i: number) => number)) => {
    const a = Math.max(0, Math.round(t0 * fs));
    const b = Math.min(n, Math.round(t1 * fs));
    for (let i = a; i < b; i++) track[i] = typeof value === 'number' ? value : value(i);
  };

  const start = rng.uniform(0.05, 0.2);
  let t = start;
  for (let s = 0; s < text.length; s++) {
    const syl = text[s]!;
    const last = s === text.length - 1;
    const dur = (1 / p.rate) * (syl.stressed ? 1.2 : 0.9) * rng.uniform(0.85, 1.15) * (last ? 1.35 : 1);
    const cDur = dur * rng.uniform(0.3, 0.42);
    const vStart = t + cDur;
    const vEnd = t + dur;
    const target = vowelF(syl.vowel);
    // Consonant: formants already move towards the coming vowel (anticipatory coarticulation).
    for (let k = 0; k < 4; k++) fill(plan.formants[k]!, t, vStart, syl.consonant === 'nasal' ? NASAL[k]! * p.vtl : target[k]!);
    if (syl.consonant === 'nasal') {
      fill(plan.voicing, t, vStart, 0.3);
    } else if (syl.consonant === 'fricative') {
      fill(plan.fricHz, t, vStart, (3000 + 3000 * syl.place) * Math.sqrt(p.vtl));
      fill(plan.frication, t, vStart, 0.35);
    } else {
      // Stop: silent closure, then a short burst that decays into the vowel.
      const burst = t + 0.7 * cDur;
      const b0 = burst * fs;
      fill(plan.fricHz, burst, vStart, (1500 + 2500 * syl.place) * Math.sqrt(p.vtl));
      fill(plan.frication, burst, vStart, (i) => 0.8 * Math.exp(-(i - b0) / (0.012 * fs)));
    }
    for (let k = 0; k < 4; k++) fill(plan.formants[k]!, vStart, vEnd, target[k]!);
    // Stressed vowels are louder; intensity declines over the phrase like pitch does.
    const level = (syl.stressed ? 1.3 : 0.85) * (1 - 0.25 * ((vStart - start) / 2));
    const v0 = vStart * fs;
    const vN = (vEnd - vStart) * fs;
    fill(plan.voicing, vStart, vEnd, (i) => level * (0.75 + 0.25 * Math.sin((Math.PI * (i - v0)) / vN)));

    // Accent: a Gaussian bump in semitones centred where accentPeak puts it in the vowel.
    const height = syl.stressed ? p.range * rng.uniform(0.7, 1) : p.range * rng.uniform(-0.15, 0.3);
    const centre = vStart + p.accentPeak * (vEnd - vStart);
    accents.push({ centre, sigma: Math.max(0.03, 0.45 * (vEnd - vStart)), height });
    t = vEnd;
  }

  const end = t;
  const mid = (start + Math.min(end, n / fs)) / 2;
  const third = (end - start) / 3;
  const tremorHz = rng.uniform(5, 7);
  const tremorPhase = rng.uniform(0, 2 * Math.PI);
  const drift = [0, 1, 2].map(() => ({ a: 0.3 * rng.normal(), w: 2 * Math.PI * rng.uniform(0.3, 1.5), ph: rng.uniform(0, 2 * Math.PI) }));
  // Pitch moves slowly: evaluate the contour every CONTROL samples, interpolate between.
  const f0At = (time: number) => {
    const ti = Math.min(Math.max(time, start), end); // hold the contour outside the speech
    let st = p.declination * (ti - mid) + p.finalRise * smoothstep((ti - (end - third)) / third);
    for (const a of accents) st += a.height * Math.exp(-0.5 * ((ti - a.centre) / a.sigma) ** 2);
    st += p.tremor * Math.sin(2 * Math.PI * tremorHz * ti + tremorPhase);
    for (const d of drift) st += d.a * Math.sin(d.w * ti + d.ph);
    return Math.min(650, Math.max(55, p.f0 * 2 ** (st / 12)));
  };
  let next = f0At(0);
  for (let i0 = 0; i0 < n; i0 += CONTROL) {
    const here = next;
    next = f0At((i0 + CONTROL) / fs);
    for (let i = i0; i < Math.min(n, i0 + CONTROL); i++) plan.f0[i] = here + ((i - i0) / CONTROL) * (next - here);
  }
  return plan;
}
