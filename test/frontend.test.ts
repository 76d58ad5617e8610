// The GPU mel front end against the float64 CPU reference on awkward lengths
// (one sample, shorter than n_fft, not a multiple of the hop), both FFT variants,
// both STFT paths (fused and staged), the model-input layout and the on-disk
// feature cache.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { fftPower, pairCount, stftFrames, twiddles, workgroupFftSize } from '../src/kernels/stft.js';
import { MelFrontend, toModelInput, type FrontendSettings, type MelResult } from '../src/dsp/frontend.js';
import { melSpectrogramRef, powerSpectrogramRef, hannPeriodic, frameCount } from '../src/ref/melspec.js';
import { FeatureCache } from '../src/dsp/feature-cache.js';
import { MEL_TOL as TOL } from '../src/kernels/tolerances.js';
import { expectClose, makeRng, maxAbs } from './util/check.js';

const gpu = await getGpu();

/** Deterministic test signal: a chirp plus seeded noise. */
function signal(n: number, seed = 1): Float32Array {
  const rand = makeRng(seed);
  return Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(0.002 * i * i * 0.01 + 0.1 * i) + 0.1 * (rand() - 0.5));
}

/**
 * One clip's mel power, dB and scaled dB against `want` (the reference, or another
 * GPU path with `scale` 2): dB only where want's is above the top_db floor, since
 * below it both are clamped to the floor, which sits at the clip's own maximum.
 */
function expectMel(label: string, got: MelResult, want: { frames: number; power: ArrayLike<number>; db: ArrayLike<number>; scaled: ArrayLike<number> }, topDb: number, scale = 1): void {
  expect(got.frames, `${label}: frames`).toBe(want.frames);
  expectClose(`${label} mel power`, got.power, want.power, { atol: scale * TOL.melPower.atolOfMax * maxAbs(want.power), rtol: scale * TOL.melPower.rtol });
  expectClose(`${label} dB`, got.db, want.db, { atol: scale * TOL.db.atol, rtol: scale * TOL.db.rtol }, { where: (j) => want.db[j]! > -topDb });
  expectClose(`${label} scaled`, got.scaled, want.scaled, { atol: scale * TOL.scaled.atol, rtol: scale * TOL.scaled.rtol });
}

const SMALL: Partial<FrontendSettings> = { nFft: 512, hop: 160, nMels: 40, fmin: 20, fmax: 8000, melScale: 'htk', melNorm: 'none' };

describe('GPU front end vs float64 CPU reference', () => {
  for (const [label, settings, lengths] of [
    ['n_fft 512, hop 160 (hop does not divide n_fft)', SMALL, [1, 100, 511, 4001, 22050]],
    // A one-sample clip (odd frame count) beside loud ones: frames are paired only inside a clip.
    ['defaults n_fft 2048, hop 512', {}, [1, 2047, 5000]],
  ] as const) {
    it(`${label}: lengths ${lengths.join(', ')} in one batch`, async () => {
      const fe = new MelFrontend(gpu, settings);
      const s = fe.settings;
      const clips = lengths.map((n, i) => signal(n, i + 1));
      const got = await fe.melBatch(clips);
      clips.forEach((x, i) => expectMel(`${label} n=${x.length}`, got[i]!, melSpectrogramRef(x, s), s.topDb));
    });
  }

  it('silent clip: dB all 0 (ref = amin) and scaled all 0, no NaN', async () => {
    const fe = new MelFrontend(gpu, SMALL);
    const [r] = await fe.melBatch([new Float32Array(1000)]);
    expect(r!.db.every((v) => v === 0)).toBe(true);
    expect(r!.scaled.every((v) => v === 0)).toBe(true);
  });

  for (const [n, forceGlobal] of [
    [256, true],
    [1024, true],
    [8192, false],
  ] as const) {
    it(`power spectrum, n_fft ${n} via the ${forceGlobal ? 'forced ' : ''}multi-pass global FFT, odd frame count`, async () => {
      if (!forceGlobal) expect(workgroupFftSize(gpu, n)).toBe(0); // too big for workgroup memory here, so the global path runs
      const hop = Math.floor(n / 3) + 1;
      const x = signal(2 * n + 7, 9);
      const frames = frameCount(x.length, hop);
      expect(frames % 2).toBe(1);
      const bins = n / 2 + 1;
      const sig = gpu.upload(x);
      const info = new Uint32Array(4 * frames);
      for (let t = 0; t < frames; t++) info.set([0, x.length, t, 0], 4 * t);
      const infoBuf = gpu.upload(info);
      const win = gpu.upload(Float32Array.from(hannPeriodic(n)));
      const tw = gpu.upload(twiddles(n));
      const pairs = gpu.pool.acquire(pairCount(frames) * n * 8);
      const power = gpu.pool.acquire(frames * bins * 4);
      const shape = { nFft: n, hop, frames };
      run(gpu, (r) => {
        stftFrames(r, pairs, sig, infoBuf, win, shape);
        fftPower(r, power, pairs, tw, shape, forceGlobal);
      });
      const got = await gpu.readF32(power, frames * bins);
      const want = powerSpectrogramRef(x, n, hop);
      expectClose(`n_fft ${n} global FFT power`, got, want, { atol: TOL.spectrum.atolOfMax * maxAbs(want), rtol: TOL.spectrum.rtol });
      gpu.pool.release(pairs);
      gpu.pool.release(power);
    });
  }
});

describe('staged STFT path (stft_frames → fft_stockham → fft_power → mel_project) vs the fused one and the reference', () => {
  // Odd lengths; frame counts 1, 3, 27, 138 and 1, 3, 10: where odd, a clip's last frame has no partner in the FFT.
  for (const [label, settings, lengths] of [
    ['n_fft 512, hop 160', SMALL, [1, 321, 4161, 22051]],
    ['defaults n_fft 2048, hop 512', {}, [1, 1025, 5001]],
  ] as const) {
    it(`${label}: lengths ${lengths.join(', ')} in one batch`, async () => {
      const staged = new MelFrontend(gpu, settings, 'staged');
      const fused = new MelFrontend(gpu, settings, 'fused');
      expect(staged.stftPath).toBe('staged');
      const s = staged.settings;
      const clips = lengths.map((n, i) => signal(n, 10 + i));
      const [a, b] = [await staged.melBatch(clips), await fused.melBatch(clips)];
      clips.forEach((x, i) => {
        expectMel(`staged ${label} n=${x.length}`, a[i]!, melSpectrogramRef(x, s), s.topDb);
        expectMel(`staged vs fused ${label} n=${x.length}`, a[i]!, b[i]!, s.topDb, 2);
      });
    });
  }
});

describe('model inputs', () => {
  it('lays out [timesteps][n_mels][frames_per_step], zero-padding past the clip and truncating past the window', async () => {
    const s = { nMels: 2, timesteps: 3, framesPerStep: 4 };
    // [2 mels][5 frames]: value 10·m + t
    const spec = Float32Array.from({ length: 10 }, (_, i) => 10 * Math.floor(i / 5) + (i % 5) + 1);
    const out = toModelInput(spec, 5, s);
    expect(Array.from(out.subarray(0, 8))).toEqual([1, 2, 3, 4, 11, 12, 13, 14]);
    expect(Array.from(out.subarray(8, 16))).toEqual([5, 0, 0, 0, 15, 0, 0, 0]);
    expect(Array.from(out.subarray(16, 24))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const long = Float32Array.from({ length: 2 * 20 }, (_, i) => i);
    // index 23 = chunk 2, mel 1, frame 3: global frame 11 of mel 1, i.e. long[20 + 11]
    expect(toModelInput(long, 20, s)[23]).toBe(31);
  });

  it('defaults give 3 × 128 × 60 per clip, from the GPU scaled spectrogram', async () => {
    const fe = new MelFrontend(gpu);
    const x = signal(44100, 3);
    const [inp] = await fe.modelInputs([x]);
    expect(inp!.length).toBe(3 * 128 * 60);
    const [m] = await fe.melBatch([x]);
    expect(m!.frames).toBe(87);
    // chunk 1, mel 5, frame 7 = global frame 67
    expect(inp![(1 * 128 + 5) * 60 + 7]).toBe(m!.scaled[5 * 87 + 67]);
    // chunk 2 frame 30 = global frame 150 >= 87: padding
    expect(inp![(2 * 128 + 5) * 60 + 30]).toBe(0);
  });
});

describe('feature cache', () => {
  it('stores and returns features keyed by content and settings; recomputes for other settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-cache-'));
    try {
      const cache = new FeatureCache(dir);
      const bytes = new Uint8Array([1, 2, 3, 4]);
      let computed = 0;
      const compute = async () => {
        computed++;
        return { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) };
      };
      const a = await cache.getOrCompute(bytes, { n: 1, m: 2 }, compute);
      const b = await new FeatureCache(dir).getOrCompute(bytes, { m: 2, n: 1 }, compute);
      expect(computed).toBe(1);
      expect(b.shape).toEqual([2, 3]);
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
      await cache.getOrCompute(bytes, { n: 2, m: 2 }, compute);
      await cache.getOrCompute(new Uint8Array([1, 2, 3, 5]), { n: 1, m: 2 }, compute);
      expect(computed).toBe(3);
      const files = readdirSync(dir, { recursive: true }).map(String);
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(files.filter((f) => f.endsWith('.f32')).length).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
