// Float64 CPU reference of the whole mel front end, step for step what
// librosa.feature.melspectrogram(center=True, pad_mode="constant", window="hann",
// power=2) and librosa.power_to_db(ref=np.max) compute, plus the per-clip
// min-max scaling to [0, 1] that feeds the model.
import { melFilterbank, type MelFilterSettings } from '../dsp/mel.js';

export interface SpectrogramSettings extends MelFilterSettings {
  hop: number;
  /** power_to_db floor below the maximum, in dB (librosa's top_db). */
  topDb: number;
  /** power_to_db clamp of tiny powers (librosa's amin). */
  amin: number;
}

/** Frames of a clip of n samples with centre padding: 1 + floor(n / hop). */
export function frameCount(n: number, hop: number): number {
  return 1 + Math.floor(n / hop);
}

/** Periodic Hann window (scipy.signal.get_window('hann', n, fftbins=True)). */
export function hannPeriodic(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) w[k] = 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / n);
  return w;
}

/** In-place iterative radix-2 FFT of (re, im), length a power of two. */
export function fftRef(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n & (n - 1)) throw new RangeError(`fftRef: length ${n} is not a power of two`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len *= 2) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}

/** |STFT|² for bins 0 … nFft/2, row-major [frames][nFft/2 + 1]. */
export function powerSpectrogramRef(x: ArrayLike<number>, nFft: number, hop: number): Float64Array {
  const frames = frameCount(x.length, hop);
  const nBins = nFft / 2 + 1;
  const win = hannPeriodic(nFft);
  const out = new Float64Array(frames * nBins);
  const re = new Float64Array(nFft);
  const im = new Float64Array(nFft);
  const pad = nFft / 2;
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < nFft; k++) {
      const j = t * hop + k - pad;
      re[k] = j >= 0 && j < x.length ? x[j]! * win[k]! : 0;
      im[k] = 0;
    }
    fftRef(re, im);
    for (let k = 0; k < nBins; k++) out[t * nBins + k] = re[k]! * re[k]! + im[k]! * im[k]!;
  }
  return out;
}

export interface MelSpecRef {
  frames: number;
  /** Mel power, [nMels][frames]. */
  power: Float64Array;
  /** power_to_db(power, ref=max, amin, top_db), [nMels][frames]. */
  db: Float64Array;
  /** db min-max scaled to [0, 1] over the clip (all zeros when the clip is constant). */
  scaled: Float64Array;
}

export function melSpectrogramRef(x: ArrayLike<number>, s: SpectrogramSettings, filterbank = melFilterbank(s)): MelSpecRef {
  const nBins = s.nFft / 2 + 1;
  const spec = powerSpectrogramRef(x, s.nFft, s.hop);
  const frames = frameCount(x.length, s.hop);
  const power = new Float64Array(s.nMels * frames);
  for (let m = 0; m < s.nMels; m++) {
    for (let t = 0; t < frames; t++) {
      let acc = 0;
      for (let k = 0; k < nBins; k++) acc += filterbank[m * nBins + k]! * spec[t * nBins + k]!;
      power[m * frames + t] = acc;
    }
  }
  const { db, scaled } = powerToDbRef(power, s.amin, s.topDb);
  return { frames, power, db, scaled };
}

/** power_to_db with ref = max over the array, then min-max scaling of the result to [0, 1]. */
export function powerToDbRef(power: ArrayLike<number>, amin: number, topDb: number): { db: Float64Array; scaled: Float64Array } {
  let max = -Infinity;
  for (let i = 0; i < power.length; i++) max = Math.max(max, power[i]!);
  const refDb = 10 * Math.log10(Math.max(amin, max));
  const db = new Float64Array(power.length);
  let hi = -Infinity;
  for (let i = 0; i < power.length; i++) {
    db[i] = 10 * Math.log10(Math.max(amin, power[i]!)) - refDb;
    hi = Math.max(hi, db[i]!);
  }
  let lo = Infinity;
  for (let i = 0; i < db.length; i++) {
    db[i] = Math.max(db[i]!, hi - topDb);
    lo = Math.min(lo, db[i]!);
  }
  const scaled = new Float64Array(db.length);
  if (hi > lo) for (let i = 0; i < db.length; i++) scaled[i] = (db[i]! - lo) / (hi - lo);
  return { db, scaled };
}
