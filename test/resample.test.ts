// Kaiser-windowed sinc resampler: tones in the passband survive (amplitude,
// frequency), content above the new Nyquist is removed by >= 60 dB, for the
// corpora's rate pairs.
import { describe, expect, it } from 'vitest';
import { resample } from '../src/dsp/resample.js';

const OUT = 22050;
/** Tolerances: passband amplitude (relative), residual after removing the expected tone and stopband leakage (dB). */
const TOL = { amplitude: 0.01, residualDb: -60, stopbandDb: -60 };

function tone(rate: number, f: number, seconds: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / rate + 0.3));
}

/** Least-squares fit of a·sin + b·cos at f over the interior of y (edges skipped): amplitude and residual RMS. */
function fit(y: Float32Array, rate: number, f: number): { amplitude: number; residualRms: number } {
  const lo = Math.floor(y.length * 0.1);
  const hi = Math.floor(y.length * 0.9);
  let ss = 0, cc = 0, sc = 0, sy = 0, cy = 0;
  for (let i = lo; i < hi; i++) {
    const s = Math.sin((2 * Math.PI * f * i) / rate);
    const c = Math.cos((2 * Math.PI * f * i) / rate);
    ss += s * s; cc += c * c; sc += s * c; sy += s * y[i]!; cy += c * y[i]!;
  }
  const det = ss * cc - sc * sc;
  const a = (sy * cc - cy * sc) / det;
  const b = (cy * ss - sy * sc) / det;
  let r = 0;
  for (let i = lo; i < hi; i++) {
    const e = y[i]! - a * Math.sin((2 * Math.PI * f * i) / rate) - b * Math.cos((2 * Math.PI * f * i) / rate);
    r += e * e;
  }
  return { amplitude: Math.hypot(a, b), residualRms: Math.sqrt(r / (hi - lo)) };
}

function rms(y: Float32Array): number {
  const lo = Math.floor(y.length * 0.1);
  const hi = Math.floor(y.length * 0.9);
  let r = 0;
  for (let i = lo; i < hi; i++) r += y[i]! * y[i]!;
  return Math.sqrt(r / (hi - lo));
}

const db = (x: number) => 20 * Math.log10(x);

describe('resample to 22050 Hz', () => {
  for (const inRate of [48000, 24414, 96000, 44100, 16000]) {
    it(`${inRate} → ${OUT}: 1 kHz and 7 kHz tones keep amplitude and frequency; content above the new Nyquist is gone`, () => {
      const amp = 0.5;
      for (const f of [1000, 7000]) {
        const x = tone(inRate, f, 0.5, amp);
        const t0 = performance.now();
        const y = resample(x, inRate, OUT);
        const ms = performance.now() - t0;
        expect(y.length).toBe(Math.ceil((x.length * OUT) / inRate));
        const r = fit(y, OUT, f);
        const relErr = Math.abs(r.amplitude - amp) / amp;
        console.log(`${inRate}→${OUT} ${f} Hz: amplitude error ${(100 * relErr).toFixed(4)} %, residual ${db(r.residualRms / amp).toFixed(1)} dB, ${(ms / 0.5).toFixed(1)} ms per second of audio`);
        expect(relErr).toBeLessThanOrEqual(TOL.amplitude);
        expect(db(r.residualRms / amp)).toBeLessThanOrEqual(TOL.residualDb);
      }
      // Above the output Nyquist (11025 Hz) but below the input's; for upsampling, the input
      // cannot hold such content, so check instead that the images of a 7.9 kHz tone are removed (residual above).
      for (const f of [11100, 12000, 15000, 20000].filter((g) => g < inRate / 2)) {
        const y = resample(tone(inRate, f, 0.5, amp), inRate, OUT);
        const leak = db(rms(y) / (amp / Math.SQRT2));
        console.log(`${inRate}→${OUT} ${f} Hz (stopband): ${leak.toFixed(1)} dB`);
        expect(leak).toBeLessThanOrEqual(TOL.stopbandDb);
      }
    });
  }

  it('identity when the rates agree; DC gain exactly 1', () => {
    const x = new Float32Array(100).fill(0.25);
    expect(resample(x, 22050, 22050)).toBe(x);
    const y = resample(new Float32Array(20000).fill(0.25), 48000, OUT);
    expect(Math.abs(y[y.length >> 1]! - 0.25)).toBeLessThan(1e-6);
  });

  it('coprime rates with a huge polyphase table fall back to interpolated phases and still work', () => {
    const y = resample(tone(44101, 1000, 0.5), 44101, OUT);
    const r = fit(y, OUT, 1000);
    console.log(`44101→${OUT}: amplitude error ${((100 * Math.abs(r.amplitude - 0.5)) / 0.5).toFixed(4)} %, residual ${db(r.residualRms / 0.5).toFixed(1)} dB`);
    expect(Math.abs(r.amplitude - 0.5) / 0.5).toBeLessThanOrEqual(TOL.amplitude);
    expect(db(r.residualRms / 0.5)).toBeLessThanOrEqual(TOL.residualDb);
  });
});
