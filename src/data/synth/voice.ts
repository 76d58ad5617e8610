// Source–filter rendering of a plan (prosody.ts) into a waveform:
//
//   Rosenberg glottal flow (jitter, shimmer, creak) + aspiration noise (breathiness,
//   pulsed by the flow) → spectral tilt (two one-pole lowpass stages)
//   → cascade of four formant resonators (targets smoothed = vowel transitions)
//   + parallel noise resonator for bursts and fricatives
//   → lip radiation (first difference) → gain → room noise floor → soft limiter.
import type { Rng } from '../../util/rng.js';
import type { Plan } from './prosody.js';
import type { UtteranceParams } from './voices.js';

const BANDWIDTHS = [80, 100, 140, 220]; // Hz, F1..F4
// Puts a neutral voice near -27 dBFS RMS in its vowels, leaving headroom for anger.
const OUTPUT_GAIN = 1.2;
const NOISE_FLOOR_DB = -75;

/** Second-order resonator in Klatt's form: unity gain at DC, retunable while running. */
class Resonator {
  private a = 1;
  private b = 0;
  private c = 0;
  private y1 = 0;
  private y2 = 0;
  constructor(private readonly fs: number) {}

  tune(freq: number, bw: number): void {
    const r = Math.exp((-Math.PI * bw) / this.fs);
    this.c = -r * r;
    this.b = 2 * r * Math.cos((2 * Math.PI * freq) / this.fs);
    this.a = 1 - this.b - this.c;
  }

  step(x: number): number {
    const y = this.a * x + this.b * this.y1 + this.c * this.y2;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

// Filters are retuned every 8 samples (0.36 ms at 22050 Hz): far faster than formants
// move, and it keeps the cos/exp out of the per-sample path.
const RETUNE = 8;

/**
 * Rosenberg (1971) glottal flow over one cycle, phase x in [0, 1): a raised-cosine opening
 * over 70% of the open phase, a quarter-cosine closing over the rest, closed afterwards.
 * A smaller open quotient closes faster, which puts more energy in the high harmonics.
 */
export function rosenberg(x: number, openQuotient: number): number {
  const tp = 0.7 * openQuotient;
  const tn = 0.3 * openQuotient;
  if (x < tp) return 0.5 * (1 - Math.cos((Math.PI * x) / tp));
  if (x < tp + tn) return Math.cos((Math.PI * (x - tp)) / (2 * tn));
  return 0;
}

export function render(plan: Plan, p: UtteranceParams, fs: number, rng: Rng): Float32Array {
  const n = plan.f0.length;
  const out = new Float32Array(n);
  const tract = BANDWIDTHS.map(() => new Resonator(fs));
  const noiseFilter = new Resonator(fs);
  // Slower speakers move their articulators more slowly.
  const formantAlpha = 1 - Math.exp(-1 / (0.02 * (5 / p.rate) * fs));
  const voiceAlpha = 1 - Math.exp(-1 / (0.006 * fs));
  const fricAlpha = 1 - Math.exp(-1 / (0.003 * fs));
  const gain = OUTPUT_GAIN * 10 ** (p.gainDb / 20);
  const floor = 10 ** ((NOISE_FLOOR_DB + 3 * rng.normal()) / 20);
  const bw1 = BANDWIDTHS[0]! + 150 * p.breathiness; // open glottis damps F1
  // Consonant noise follows vocal effort more steeply than vowels do (here, squared):
  // shouted bursts are sharp, the consonants of subdued speech nearly vanish.
  const fricGain = 0.015 * 10 ** (p.gainDb / 20);

  // Unit-variance uniform white noise: audio noise need not be Gaussian, and this is cheap.
  const noise = () => Math.sqrt(3) * (2 * rng.next() - 1);

  const formant = plan.formants.map((f) => f[0]!);
  let voicing = 0;
  let fric = 0;
  let phase = 0; // samples into the current glottal cycle
  let period = fs / plan.f0[0]!;
  let amp = 1;
  let cycle = 0;
  let tilt1 = 0; // spectral tilt filter state
  let tilt2 = 0;
  let breath = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    if (phase >= period) {
      phase -= period;
      cycle++;
      const odd = cycle & 1 ? 1 : 0;
      period = (fs / plan.f0[i]!) * (1 + p.jitter * rng.normal()) * (1 + 0.4 * p.creak * odd);
      period = Math.max(period, 2);
      amp = Math.max(0.05, (1 + p.shimmer * rng.normal()) * (1 - p.creak * odd));
    }
    voicing += voiceAlpha * (plan.voicing[i]! - voicing);
    fric += fricAlpha * (plan.frication[i]! - fric);
    for (let k = 0; k < 4; k++) formant[k]! += formantAlpha * (plan.formants[k]![i]! - formant[k]!);
    if (i % RETUNE === 0) {
      for (let k = 0; k < 4; k++) tract[k]!.tune(formant[k]!, k === 0 ? bw1 : BANDWIDTHS[k]!);
      noiseFilter.tune(plan.fricHz[i]!, 0.35 * plan.fricHz[i]!);
    }

    const flow = voicing * amp * rosenberg(phase / period, p.openQuotient);
    // Turbulence at the glottis, strongest while it is open. It shares the source's tilt:
    // lax phonation makes a voice both breathy and dark, so breath must not brighten it.
    breath = 0.05 * p.breathiness * voicing * (0.3 + flow) * noise() + 0.6 * breath;
    // Two one-pole lowpass stages: -12 dB/octave above the corner, so tilt is a strong cue.
    tilt1 = (1 - p.tilt) * (flow + breath) + p.tilt * tilt1;
    tilt2 = (1 - p.tilt) * tilt1 + p.tilt * tilt2;
    let y = tilt2;
    for (let k = 0; k < 4; k++) y = tract[k]!.step(y);
    y += fricGain * noiseFilter.step(fric > 1e-4 ? fric * noise() : 0);

    const radiated = y - prev; // lip radiation: +6 dB/octave
    prev = y;
    out[i] = softLimit(gain * radiated + floor * noise());
    phase += 1;
  }
  return out;
}

/** Identity below 0.8, then a tanh knee that never exceeds 1: loud voices saturate, never wrap. */
function softLimit(x: number): number {
  const a = Math.abs(x);
  if (a <= 0.8) return x;
  return Math.sign(x) * (0.8 + 0.2 * Math.tanh((a - 0.8) / 0.2));
}
