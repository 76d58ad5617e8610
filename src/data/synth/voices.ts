// The parameter tables of the synthetic corpus: one prosodic signature per emotion,
// one voice per speaker. docs/SYNTH.md prints both tables with their sources.
import { EMOTIONS, type Emotion } from '../corpora.js';
import { Rng, deriveSeed } from '../../util/rng.js';

export { EMOTIONS, type Emotion };

/**
 * How an emotion shifts a speaker's voice. Pitch values are in semitones relative to the
 * speaker's base f0; loudness in dB relative to neutral; rates are multipliers.
 */
export interface EmotionSignature {
  f0Shift: number; // mean pitch, semitones
  range: number; // height of accent peaks, semitones
  declination: number; // pitch slope over the utterance, semitones per second
  finalRise: number; // pitch change over the last third of the utterance, semitones
  accentPeak: number; // where in a stressed vowel the pitch peak sits: 0 start (falling) .. 1 end (rising)
  tremor: number; // 5–7 Hz pitch tremor depth, semitones
  rate: number; // syllables per second, multiplier on the speaker's rate
  loudness: number; // dB
  tilt: number; // pole of the two-stage source lowpass, 0..0.92: larger = steeper tilt, darker voice
  openQuotient: number; // open fraction of the glottal cycle: small = pressed, large = lax/breathy
  breathiness: number; // aspiration noise added to the speaker's baseline
  jitter: number; // relative cycle-to-cycle period perturbation (sd)
  shimmer: number; // relative cycle-to-cycle amplitude perturbation (sd)
  creak: number; // alternate-cycle amplitude/period modulation (diplophonic, creaky voice)
  articulation: number; // 1 = full vowel targets, < 1 = centralised towards schwa
  formantScale: number; // multiplies all formants: > 1 for spread lips (smiling), which shorten the tract
}

// Directions follow the acoustic profiles reviewed by Murray & Arnott (1993),
// Banse & Scherer (1996) and Scherer (2003); magnitudes are chosen so classes overlap.
export const SIGNATURES: Record<Emotion, EmotionSignature> = {
  neutral: { f0Shift: 0, range: 3, declination: -2, finalRise: -1, accentPeak: 0.45, tremor: 0, rate: 1, loudness: 0, tilt: 0.3, openQuotient: 0.6, breathiness: 0, jitter: 0.006, shimmer: 0.03, creak: 0, articulation: 1, formantScale: 1 },
  happy: { f0Shift: 4, range: 8, declination: -1.5, finalRise: -2, accentPeak: 0.55, tremor: 0, rate: 1.1, loudness: 3, tilt: 0.25, openQuotient: 0.6, breathiness: 0, jitter: 0.007, shimmer: 0.035, creak: 0, articulation: 1.05, formantScale: 1.06 },
  sad: { f0Shift: -2.5, range: 1.2, declination: -1, finalRise: -1.5, accentPeak: 0.4, tremor: 0, rate: 0.7, loudness: -5, tilt: 0.75, openQuotient: 0.72, breathiness: 0.25, jitter: 0.009, shimmer: 0.05, creak: 0, articulation: 0.7, formantScale: 0.98 },
  angry: { f0Shift: 2, range: 4, declination: -3, finalRise: -3, accentPeak: 0.25, tremor: 0, rate: 1.25, loudness: 8, tilt: 0, openQuotient: 0.38, breathiness: 0, jitter: 0.01, shimmer: 0.045, creak: 0, articulation: 1.1, formantScale: 1.02 },
  fearful: { f0Shift: 5, range: 4, declination: 0, finalRise: 1, accentPeak: 0.5, tremor: 0.8, rate: 1.3, loudness: 1, tilt: 0.3, openQuotient: 0.66, breathiness: 0.2, jitter: 0.028, shimmer: 0.07, creak: 0, articulation: 0.9, formantScale: 1.02 },
  disgust: { f0Shift: -2, range: 3.5, declination: -4.5, finalRise: -4, accentPeak: 0.1, tremor: 0, rate: 0.8, loudness: -1, tilt: 0.4, openQuotient: 0.5, breathiness: 0.05, jitter: 0.03, shimmer: 0.11, creak: 0.35, articulation: 0.95, formantScale: 0.97 },
  surprised: { f0Shift: 4, range: 8, declination: 0, finalRise: 8, accentPeak: 0.85, tremor: 0, rate: 1.05, loudness: 3, tilt: 0.25, openQuotient: 0.6, breathiness: 0.05, jitter: 0.008, shimmer: 0.04, creak: 0, articulation: 1.05, formantScale: 1.03 },
};

/** A speaker's voice, before any emotion. */
export interface Voice {
  id: string;
  sex: 'm' | 'f';
  f0: number; // base pitch, Hz
  vtl: number; // formant scale: 1 = adult male vocal tract, ~1.17 female (shorter tract)
  rate: number; // syllables per second when neutral
  breathiness: number; // aspiration baseline
  tilt: number; // added to the emotion's source tilt
  rangeScale: number; // how lively this speaker's intonation is
}

export const SPEAKERS: readonly Voice[] = [
  { id: 's01', sex: 'm', f0: 105, vtl: 0.97, rate: 4.6, breathiness: 0.04, tilt: 0.05, rangeScale: 0.9 },
  { id: 's02', sex: 'f', f0: 205, vtl: 1.17, rate: 4.9, breathiness: 0.1, tilt: 0, rangeScale: 1.1 },
  { id: 's03', sex: 'm', f0: 122, vtl: 1.02, rate: 5.2, breathiness: 0.02, tilt: -0.05, rangeScale: 1 },
  { id: 's04', sex: 'f', f0: 228, vtl: 1.2, rate: 4.5, breathiness: 0.14, tilt: 0.05, rangeScale: 0.95 },
  { id: 's05', sex: 'm', f0: 95, vtl: 0.94, rate: 4.3, breathiness: 0.06, tilt: 0.08, rangeScale: 0.85 },
  { id: 's06', sex: 'f', f0: 188, vtl: 1.13, rate: 5.0, breathiness: 0.07, tilt: -0.03, rangeScale: 1.15 },
  { id: 's07', sex: 'm', f0: 138, vtl: 1.05, rate: 4.8, breathiness: 0.03, tilt: 0, rangeScale: 1.05 },
  { id: 's08', sex: 'f', f0: 245, vtl: 1.22, rate: 5.3, breathiness: 0.09, tilt: -0.06, rangeScale: 1 },
];

/** Speaker `i`: the table for the first eight, then deterministic variations of them. */
export function speakerVoice(i: number): Voice {
  if (!Number.isInteger(i) || i < 0) throw new Error(`speaker index must be a non-negative integer, got ${i}`);
  const base = SPEAKERS[i % SPEAKERS.length]!;
  if (i < SPEAKERS.length) return base;
  const rng = new Rng(deriveSeed(0x5eed, i));
  return {
    id: `s${String(i + 1).padStart(2, '0')}`,
    sex: base.sex,
    f0: base.f0 * 2 ** (rng.uniform(-2, 2) / 12),
    vtl: base.vtl * rng.uniform(0.97, 1.03),
    rate: base.rate * rng.uniform(0.92, 1.08),
    breathiness: Math.max(0, base.breathiness + rng.uniform(-0.03, 0.03)),
    tilt: base.tilt + rng.uniform(-0.04, 0.04),
    rangeScale: base.rangeScale * rng.uniform(0.9, 1.1),
  };
}

/** One utterance's settings: the speaker's voice moved by the emotion, with per-utterance spread. */
export interface UtteranceParams {
  f0: number; // Hz, mean of the baseline before accents
  range: number;
  declination: number;
  finalRise: number;
  accentPeak: number;
  tremor: number;
  rate: number; // syllables per second
  gainDb: number;
  tilt: number;
  openQuotient: number;
  breathiness: number;
  jitter: number;
  shimmer: number;
  creak: number;
  articulation: number;
  vtl: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * Draws an utterance's parameters around the emotion's signature. The spreads are wide
 * enough that neighbouring emotions (happy/surprised, sad/disgust) overlap on single cues.
 */
export function sampleParams(sig: EmotionSignature, voice: Voice, rng: Rng): UtteranceParams {
  const logN = (sd: number) => Math.exp(sd * rng.normal());
  return {
    f0: voice.f0 * 2 ** ((sig.f0Shift + 1.0 * rng.normal()) / 12),
    range: sig.range * voice.rangeScale * logN(0.2),
    declination: sig.declination + 0.7 * rng.normal(),
    finalRise: sig.finalRise + 1.2 * rng.normal(),
    accentPeak: clamp(sig.accentPeak + 0.1 * rng.normal(), 0, 1),
    tremor: sig.tremor * logN(0.25),
    rate: voice.rate * sig.rate * logN(0.07),
    gainDb: sig.loudness + 1.5 * rng.normal(),
    tilt: clamp(sig.tilt + voice.tilt + 0.05 * rng.normal(), 0, 0.92),
    openQuotient: clamp(sig.openQuotient + 0.04 * rng.normal(), 0.3, 0.85),
    breathiness: Math.max(0, sig.breathiness + voice.breathiness + 0.03 * rng.normal()),
    jitter: sig.jitter * logN(0.25),
    shimmer: sig.shimmer * logN(0.25),
    creak: sig.creak * logN(0.3),
    articulation: sig.articulation * logN(0.05),
    vtl: voice.vtl * sig.formantScale,
  };
}
