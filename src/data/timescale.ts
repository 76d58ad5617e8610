// Time-scale modification for augmentation: WSOLA time stretch (tempo changes, pitch
// kept) and a windowed-sinc resampler to an exact length. Pitch shift is the two in
// sequence: stretch by 2^(s/12), then resample back to the original length, which
// plays the stretched audio 2^(s/12) times faster and so scales every frequency by it.
//
// WSOLA (Verhelst & Roelands 1993): Hann frames of 40 ms overlap-added at a 20 ms
// synthesis hop; the analysis position of frame k is nominally k·hop·rate, moved by up
// to ±10 ms to the offset whose frame best continues the previous one (maximum
// cross-correlation with the input that followed the previous frame). Continuing the
// waveform in phase is what keeps the pitch and avoids the phasiness of a plain
// overlap-add. The search covers ±10 ms, wider than half the longest voiced period.

const FRAME_SECONDS = 0.04;
const TOLERANCE_SECONDS = 0.01;

/** x[i] with zeros outside the signal, so frames may hang over either end. */
function at(x: Float32Array, i: number): number {
  return i >= 0 && i < x.length ? x[i]! : 0;
}

/**
 * Changes tempo by `rate` (> 1 faster) keeping pitch. Output length is round(len / rate).
 */
export function timeStretch(x: Float32Array, rate: number, sampleRate: number): Float32Array {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`time stretch rate must be positive, got ${rate}`);
  const outLen = Math.round(x.length / rate);
  if (rate === 1) return Float32Array.from(x);
  const hop = Math.max(1, Math.round((sampleRate * FRAME_SECONDS) / 2));
  const frame = 2 * hop;
  const tol = Math.max(1, Math.round(sampleRate * TOLERANCE_SECONDS));
  // Periodic Hann: copies at a hop of frame/2 sum to exactly 1.
  const win = Float32Array.from({ length: frame }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / frame));
  // Output sample t corresponds to input sample t·rate; frame k starts at output k·hop - hop
  // so that the first output samples already have two overlapping frames.
  const y = new Float64Array(outLen);
  const wsum = new Float64Array(outLen);
  const frames = Math.ceil(outLen / hop) + 1;
  let prev = -hop; // input start of the previous frame
  const tmpl = new Float32Array(frame);
  for (let k = 0; k < frames; k++) {
    const outStart = k * hop - hop;
    const nominal = Math.round(outStart * rate);
    let start = nominal;
    if (k > 0) {
      // The natural continuation of the previous frame is what followed it in the input.
      for (let n = 0; n < frame; n++) tmpl[n] = at(x, prev + hop + n);
      start = bestOffset(x, tmpl, nominal, tol);
    }
    for (let n = 0; n < frame; n++) {
      const t = outStart + n;
      if (t < 0 || t >= outLen) continue;
      y[t]! += win[n]! * at(x, start + n);
      wsum[t]! += win[n]!;
    }
    prev = start;
  }
  const out = new Float32Array(outLen);
  for (let t = 0; t < outLen; t++) out[t] = wsum[t]! > 1e-6 ? y[t]! / wsum[t]! : 0;
  return out;
}

/** Start in [nominal - tol, nominal + tol] maximising correlation with tmpl: coarse step 2, then refined. */
function bestOffset(x: Float32Array, tmpl: Float32Array, nominal: number, tol: number): number {
  const corr = (s: number): number => {
    let acc = 0;
    // Every other sample: halves the cost, and speech has little energy near Nyquist.
    for (let n = 0; n < tmpl.length; n += 2) acc += tmpl[n]! * at(x, s + n);
    return acc;
  };
  let best = nominal;
  let bestC = -Infinity;
  for (let d = -tol; d <= tol; d += 2) {
    const c = corr(nominal + d);
    if (c > bestC) [best, bestC] = [nominal + d, c];
  }
  const centre = best;
  for (const s of [centre - 1, centre + 1]) {
    if (Math.abs(s - nominal) > tol) continue;
    const c = corr(s);
    if (c > bestC) [best, bestC] = [s, c];
  }
  return best;
}

// Hann-windowed sinc with HALF zero crossings per side, tabulated finely enough that
// linear interpolation between entries is far below the augmentation's noise floor.
const HALF = 16;
const RES = 512;
/** Cutoff as a fraction of the lower Nyquist: the transition band ends just below it. */
const CUTOFF = 0.92;
const KERNEL = (() => {
  const k = new Float32Array(HALF * RES + 2);
  for (let i = 0; i < k.length; i++) {
    const u = i / RES;
    const sinc = u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u);
    k[i] = u >= HALF ? 0 : sinc * (0.5 + 0.5 * Math.cos((Math.PI * u) / HALF));
  }
  return k;
})();

/**
 * Resamples x to exactly outLen samples spanning the same duration (sample 0 stays at 0).
 * Band-limited to the lower of the two Nyquist rates, so shrinking does not alias.
 */
export function resampleToLength(x: Float32Array, outLen: number): Float32Array {
  const out = new Float32Array(outLen);
  if (x.length === 0 || outLen === 0) return out;
  if (outLen === x.length) {
    out.set(x);
    return out;
  }
  const step = x.length / outLen;
  // Cutoff relative to the input's Nyquist; the kernel widens by 1/fc when shrinking.
  const fc = CUTOFF * Math.min(1, outLen / x.length);
  const reach = HALF / fc;
  for (let i = 0; i < outLen; i++) {
    const t = i * step;
    const lo = Math.max(0, Math.ceil(t - reach));
    const hi = Math.min(x.length - 1, Math.floor(t + reach));
    let acc = 0;
    let wsum = 0;
    for (let j = lo; j <= hi; j++) {
      const u = Math.abs(t - j) * fc * RES;
      const k = u | 0;
      const w = KERNEL[k]! + (u - k) * (KERNEL[k + 1]! - KERNEL[k]!);
      acc += w * x[j]!;
      wsum += w;
    }
    // Normalising gives unit DC gain everywhere, including where the kernel is cut by an end.
    out[i] = wsum > 1e-9 ? acc / wsum : 0;
  }
  return out;
}

/** Shifts pitch by `semitones` keeping length and tempo. */
export function pitchShift(x: Float32Array, semitones: number, sampleRate: number): Float32Array {
  if (semitones === 0) return Float32Array.from(x);
  const factor = 2 ** (semitones / 12);
  return resampleToLength(timeStretch(x, 1 / factor, sampleRate), x.length);
}
