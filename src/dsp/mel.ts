// Mel filterbank with exactly librosa.filters.mel's semantics (librosa 0.10),
// computed in float64: triangles between n_mels + 2 points equally spaced on the
// mel scale from fmin to fmax, evaluated at the FFT bin centres k·sr/n_fft;
// Slaney (area) normalisation divides each triangle by half its width in Hz.

export type MelScale = 'slaney' | 'htk';
export type MelNorm = 'slaney' | 'none';

export interface MelFilterSettings {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fmin: number;
  /** Upper edge in Hz; sampleRate / 2 when undefined. */
  fmax?: number;
  melScale: MelScale;
  melNorm: MelNorm;
}

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMel(f: number, scale: MelScale): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + f / 700);
  return f >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOG_STEP : f / F_SP;
}

export function melToHz(m: number, scale: MelScale): number {
  if (scale === 'htk') return 700 * (10 ** (m / 2595) - 1);
  return m >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (m - MIN_LOG_MEL)) : F_SP * m;
}

/** `n` frequencies equally spaced in mel from fmin to fmax (librosa.mel_frequencies; numpy linspace). */
export function melFrequencies(n: number, fmin: number, fmax: number, scale: MelScale): Float64Array {
  const lo = hzToMel(fmin, scale);
  const hi = hzToMel(fmax, scale);
  const step = (hi - lo) / (n - 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = melToHz(i === n - 1 ? hi : lo + i * step, scale);
  return out;
}

/** The filterbank, row-major [nMels][nFft/2 + 1], float64. */
export function melFilterbank(s: MelFilterSettings): Float64Array {
  const fmax = s.fmax ?? s.sampleRate / 2;
  const nBins = Math.floor(s.nFft / 2) + 1;
  const melF = melFrequencies(s.nMels + 2, s.fmin, fmax, s.melScale);
  const w = new Float64Array(s.nMels * nBins);
  for (let m = 0; m < s.nMels; m++) {
    const d0 = melF[m + 1]! - melF[m]!;
    const d1 = melF[m + 2]! - melF[m + 1]!;
    const enorm = s.melNorm === 'slaney' ? 2 / (melF[m + 2]! - melF[m]!) : 1;
    for (let k = 0; k < nBins; k++) {
      const f = (k * s.sampleRate) / s.nFft;
      const lower = (f - melF[m]!) / d0;
      const upper = (melF[m + 2]! - f) / d1;
      w[m * nBins + k] = Math.max(0, Math.min(lower, upper)) * enorm;
    }
  }
  return w;
}

/** Non-zero range [start, end) of each filter's bins, so the GPU projection skips the zeros. */
export function filterRanges(fb: ArrayLike<number>, nMels: number, nBins: number): Uint32Array {
  const r = new Uint32Array(2 * nMels);
  for (let m = 0; m < nMels; m++) {
    let a = 0;
    while (a < nBins && fb[m * nBins + a] === 0) a++;
    let b = nBins;
    while (b > a && fb[m * nBins + b - 1] === 0) b--;
    r[2 * m] = a;
    r[2 * m + 1] = b;
  }
  return r;
}
