import { describe, expect, it } from 'vitest';
import { AugmentPool, addGaussianNoise, augment, oversample, timeShift } from '../src/data/augment.js';
import { pitchShift, resampleToLength, timeStretch } from '../src/data/timescale.js';
import { Rng, deriveSeed } from '../src/util/rng.js';
import { classCounts } from '../src/data/corpora.js';

const SR = 22050;

/** A voiced-like tone: f0 with two weaker harmonics, as a stand-in for a vowel. */
function tone(f0: number, seconds: number, sr = SR): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * sr) }, (_, i) => {
    const t = i / sr;
    return 0.5 * Math.sin(2 * Math.PI * f0 * t) + 0.25 * Math.sin(2 * Math.PI * 2 * f0 * t + 0.3) + 0.12 * Math.sin(2 * Math.PI * 3 * f0 * t + 1.1);
  });
}

/**
 * f0 by normalised autocorrelation over the middle of the clip: the smallest lag whose
 * correlation is within 5 % of the best (avoids octave errors), refined by a parabola.
 */
function measureF0(x: Float32Array, sr = SR): number {
  const w = Math.round(0.2 * sr);
  const start = Math.floor((x.length - w) / 2) - Math.round(sr / 120);
  const lo = Math.floor(sr / 500);
  const hi = Math.ceil(sr / 70);
  const r = new Float64Array(hi + 2);
  for (let lag = lo - 1; lag <= hi + 1; lag++) {
    let num = 0;
    let e0 = 0;
    let e1 = 0;
    for (let n = 0; n < w; n++) {
      const a = x[start + n]!;
      const b = x[start + n + lag]!;
      num += a * b;
      e0 += a * a;
      e1 += b * b;
    }
    r[lag] = num / Math.sqrt(e0 * e1 + 1e-12);
  }
  let best = -Infinity;
  for (let lag = lo; lag <= hi; lag++) best = Math.max(best, r[lag]!);
  let lag = lo;
  while (!(r[lag]! >= 0.95 * best && r[lag]! >= r[lag - 1]! && r[lag]! >= r[lag + 1]!)) lag++;
  const [a, b, c] = [r[lag - 1]!, r[lag]!, r[lag + 1]!];
  const frac = (a - c) / (2 * (a - 2 * b + c));
  return sr / (lag + (Number.isFinite(frac) ? frac : 0));
}

const ALL_ON = { noise: { p: 1 }, stretch: { p: 1 }, pitch: { p: 1 }, shift: { p: 1 } };
const ALL_OFF = { noise: { p: 0 }, stretch: { p: 0 }, pitch: { p: 0 }, shift: { p: 0 } };

describe('time stretch and pitch shift', () => {
  it('measures f0 of a known tone within 0.2 % (the measurement itself)', () => {
    for (const f0 of [110, 220, 347]) expect(Math.abs(measureF0(tone(f0, 0.6)) / f0 - 1)).toBeLessThan(0.002);
  });

  it('time stretch gives round(len / rate) samples and keeps the pitch', () => {
    const x = tone(220, 1.0);
    for (const rate of [0.8, 0.9137, 1, 1.25]) {
      const y = timeStretch(x, rate, SR);
      expect(y.length, `rate ${rate}`).toBe(Math.round(x.length / rate));
      const f = measureF0(y);
      console.log(`stretch ${rate}: f0 ${f.toFixed(2)} Hz (220 in)`);
      expect(Math.abs(f / 220 - 1), `rate ${rate}`).toBeLessThan(0.02);
    }
    expect(timeStretch(new Float32Array(0), 1.1, SR)).toHaveLength(0);
    expect(timeStretch(new Float32Array(5), 0.8, SR)).toHaveLength(6);
  });

  it('pitch shift scales f0 by 2^(s/12) within 2 % and keeps the length', () => {
    const x = tone(200, 1.0);
    for (const s of [-4, -1.5, 0.5, 3, 4]) {
      const y = pitchShift(x, s, SR);
      expect(y.length).toBe(x.length);
      const ratio = measureF0(y) / 200;
      const want = 2 ** (s / 12);
      console.log(`pitch ${s} st: ratio ${ratio.toFixed(4)}, expected ${want.toFixed(4)}, error ${((ratio / want - 1) * 100).toFixed(2)} %`);
      expect(Math.abs(ratio / want - 1), `${s} semitones`).toBeLessThan(0.02);
    }
  });

  it('resampler keeps a low tone and removes what would alias when shrinking', () => {
    const x = tone(300, 0.5);
    const y = resampleToLength(x, Math.round(x.length * 0.8));
    expect(Math.abs(measureF0(y, SR * 0.8) / 300 - 1)).toBeLessThan(0.002);
    // 10 kHz is above the Nyquist of the shrunk signal (8.82 kHz): it must be filtered, not folded.
    const hf = Float32Array.from({ length: SR / 2 }, (_, i) => Math.sin((2 * Math.PI * 10000 * i) / SR));
    const z = resampleToLength(hf, Math.round(hf.length * 0.8));
    const rms = Math.sqrt(z.subarray(1000, -1000).reduce((a, v) => a + v * v, 0) / (z.length - 2000));
    console.log(`10 kHz tone after shrinking to 0.8: rms ${rms.toExponential(2)} (0.707 in)`);
    expect(rms).toBeLessThan(0.005);
  });
});

describe('noise and shift', () => {
  it('adds Gaussian noise of the requested amplitude', () => {
    const y = addGaussianNoise(new Float32Array(50000), 0.01, new Rng(3));
    const std = Math.sqrt(y.reduce((a, v) => a + v * v, 0) / y.length);
    console.log(`noise std ${std.toFixed(5)} for amplitude 0.01`);
    expect(Math.abs(std / 0.01 - 1)).toBeLessThan(0.02);
    const r = augment({ audio: new Float32Array(50000), sampleRate: SR }, 11, { ...ALL_OFF, noise: { p: 1 } });
    const a = r.applied.noise!;
    expect(a).toBeGreaterThanOrEqual(0.001);
    expect(a).toBeLessThanOrEqual(0.015);
    const s2 = Math.sqrt(r.audio.reduce((acc, v) => acc + v * v, 0) / r.audio.length);
    expect(Math.abs(s2 / a - 1)).toBeLessThan(0.02);
  });

  it('shifts with rollover or zero fill, in both directions', () => {
    const x = Float32Array.from({ length: 10 }, (_, i) => i + 1);
    expect([...timeShift(x, 3, true)]).toEqual([8, 9, 10, 1, 2, 3, 4, 5, 6, 7]);
    expect([...timeShift(x, 3, false)]).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...timeShift(x, -2, true)]).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 1, 2]);
    expect([...timeShift(x, -2, false)]).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 0, 0]);
    const r = augment({ audio: x, sampleRate: SR }, 5, { ...ALL_OFF, shift: { p: 1 } });
    expect(Math.abs(r.applied.shift!)).toBeLessThanOrEqual(5);
    expect([...r.audio]).toEqual([...timeShift(x, r.applied.shift!, true)]);
  });
});

describe('augment', () => {
  const clip = { audio: tone(180, 0.5), sampleRate: SR };

  it('is reproducible: same seed, same audio; another seed, other audio; input untouched', () => {
    const before = Float32Array.from(clip.audio);
    const a = augment(clip, 123, ALL_ON);
    const b = augment(clip, 123, ALL_ON);
    const c = augment(clip, 124, ALL_ON);
    expect(a.applied).toEqual(b.applied);
    expect(Buffer.from(a.audio.buffer).equals(Buffer.from(b.audio.buffer))).toBe(true);
    expect(c.applied).not.toEqual(a.applied);
    expect(clip.audio).toEqual(before);
    expect(a.audio.length).toBe(Math.round(clip.audio.length / a.applied.stretch!));
    const keep = augment(clip, 123, { ...ALL_ON, stretch: { leaveLengthUnchanged: true } });
    expect(keep.audio.length).toBe(clip.audio.length);
  });

  it('fires each transform with probability 0.5 by default', () => {
    const tiny = { audio: tone(200, 0.05), sampleRate: SR };
    const n = 400;
    const fired = { noise: 0, stretch: 0, pitch: 0, shift: 0 };
    for (let i = 0; i < n; i++) {
      const r = augment(tiny, deriveSeed(99, i));
      for (const k of Object.keys(r.applied) as (keyof typeof fired)[]) fired[k]++;
    }
    console.log(`fired out of ${n}: ${JSON.stringify(fired)}`);
    for (const v of Object.values(fired)) expect(Math.abs(v / n - 0.5)).toBeLessThan(0.1);
  });

  it('keeps up with training in one thread (2 s clips, default probabilities)', () => {
    const clips = Array.from({ length: 8 }, (_, k) => ({ audio: tone(120 + 20 * k, 2.0), sampleRate: SR }));
    const t0 = performance.now();
    clips.forEach((c, i) => augment(c, deriveSeed(1, i)));
    const ms = (performance.now() - t0) / clips.length;
    console.log(`augment, defaults, 2 s at 22050 Hz: ${ms.toFixed(1)} ms per clip in one thread`);
    expect(ms).toBeLessThan(1000);
  });

  it('worker pool gives exactly the in-thread results, in order', async () => {
    const clips = Array.from({ length: 6 }, (_, k) => ({ audio: tone(150 + 30 * k, 0.4), sampleRate: SR }));
    const pool = new AugmentPool(2);
    try {
      const got = await pool.run(clips, 77, ALL_ON);
      const again = await pool.run(clips, 77, ALL_ON);
      clips.forEach((c, i) => {
        const want = augment(c, deriveSeed(77, i), ALL_ON);
        expect(got[i]!.applied).toEqual(want.applied);
        expect(Buffer.from(got[i]!.audio.buffer).equals(Buffer.from(want.audio.buffer)), `clip ${i}`).toBe(true);
        expect(again[i]!.applied).toEqual(want.applied);
      });
      expect(clips[0]!.audio.length).toBe(Math.round(0.4 * SR));
    } finally {
      await pool.close();
    }
    const inline = await new AugmentPool(0).run(clips, 77, ALL_ON);
    expect(inline[3]!.applied).toEqual(augment(clips[3]!, deriveSeed(77, 3), ALL_ON).applied);
  });
});

describe('oversample', () => {
  it('fills every present class up to the majority count, reproducibly, from that class only', () => {
    const items = [...Array(10).fill(0), ...Array(3).fill(2), ...Array(7).fill(5), 6].map((label, id) => ({ id, label }));
    const out = oversample(items, 4);
    expect(classCounts(out)).toEqual([10, 0, 10, 0, 0, 10, 10]);
    expect(out.slice(0, items.length)).toEqual(items);
    for (const it of out) expect(items[it.id]!.label).toBe(it.label);
    expect(oversample(items, 4).map((i) => i.id)).toEqual(out.map((i) => i.id));
    expect(oversample(items, 5).map((i) => i.id)).not.toEqual(out.map((i) => i.id));
    expect(oversample([], 1)).toEqual([]);
  });
});
