// Golden tests of the mel front end against librosa 0.10 fixtures (../shared/fixtures/librosa):
// the filterbank, and the GPU front end's mel power and power_to_db for every
// fixture setting; plus the float64 CPU reference against the same fixtures.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { MelFrontend, type FrontendSettings } from '../src/dsp/frontend.js';
import { melFilterbank } from '../src/dsp/mel.js';
import { melSpectrogramRef } from '../src/ref/melspec.js';
import { decodeAudio } from '../src/dsp/wav.js';
import { expectClose, maxAbs } from './util/check.js';

const FIX = join('..', 'shared', 'fixtures', 'librosa');
// The fixtures' own inputs: librosa computed them from the 2-s copy in data/emodb, so this
// test (alone) reads that copy; training, results and benchmarks use data/emodb-original.
const EMODB = join('..', 'shared', 'data', 'emodb');

interface Manifest {
  params: { sr: number; n_fft: number; hop_length: number; n_mels: number; fmin: number; fmax: number | null; htk: boolean; norm: string | null };
  filterbank: { file: string; shape: [number, number] };
  files: { wav: string; power: string; db: string; shape: [number, number] }[];
}

/**
 * Tolerances (atol + rtol·|librosa|): the filterbank after dividing each row by its
 * peak; dB absolute; power where librosa's is above the top_db floor, atol a fraction
 * of the clip's largest power.
 */
const TOL = {
  filterbank: { atol: 1e-6, rtol: 1e-6 },
  db: { atol: 0.05, rtol: 0 },
  power: { atolOfMax: 1e-8, rtol: 2e-3 },
};

function f32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function settingsOf(m: Manifest): FrontendSettings {
  const p = m.params;
  return {
    sampleRate: p.sr,
    nFft: p.n_fft,
    hop: p.hop_length,
    nMels: p.n_mels,
    fmin: p.fmin,
    fmax: p.fmax ?? undefined,
    melScale: p.htk ? 'htk' : 'slaney',
    melNorm: p.norm === 'slaney' ? 'slaney' : 'none',
    topDb: 80,
    amin: 1e-10,
    timesteps: 3,
    framesPerStep: 60,
  };
}

/**
 * Compares a [nMels][frames] result with librosa's: dB over every element (clamped
 * ones included; the clamp is continuous, so it never increases a difference), or
 * with `dbAboveFloorOnly` over the elements whose librosa power is above the top_db
 * floor; power over those elements.
 */
function expectLibrosa(label: string, power: ArrayLike<number>, db: ArrayLike<number>, wantPower: Float32Array, wantDb: Float32Array, dbAboveFloorOnly = false): void {
  const aboveFloor = (i: number): boolean => wantDb[i]! > -80;
  expectClose(`${label} dB`, db, wantDb, TOL.db, dbAboveFloorOnly ? { where: aboveFloor } : {});
  expectClose(`${label} power above the floor`, power, wantPower, { atol: TOL.power.atolOfMax * maxAbs(wantPower), rtol: TOL.power.rtol }, { where: aboveFloor });
}

const gpu = await getGpu();

for (const setting of ['default', 'small', 'htk']) {
  const manifest = JSON.parse(readFileSync(join(FIX, setting, 'manifest.json'), 'utf8')) as Manifest;
  const s = settingsOf(manifest);
  describe(`librosa golden, ${setting} (n_fft ${s.nFft}, hop ${s.hop}, ${s.nMels} mels, ${s.melScale}/${s.melNorm})`, () => {
    it('filterbank matches librosa.filters.mel within 1e-6 relative', () => {
      const want = f32(join(FIX, setting, manifest.filterbank.file));
      const [rows, bins] = manifest.filterbank.shape;
      const got = melFilterbank(s);
      expect(got.length).toBe(rows * bins);
      // Row by row relative to the row's peak (an empty row is compared as is).
      const peaks = Array.from({ length: rows }, (_, m) => maxAbs(want.subarray(m * bins, (m + 1) * bins)) || 1);
      const perPeak = (a: ArrayLike<number>) => Float64Array.from({ length: rows * bins }, (_, i) => a[i]! / peaks[Math.floor(i / bins)]!);
      expectClose(`${setting} filterbank / row peak`, perPeak(got), perPeak(want), TOL.filterbank);
    });

    it('GPU mel power and power_to_db match librosa on every fixture file (batched)', async () => {
      const clips = manifest.files.map((f) => decodeAudio(readFileSync(join(EMODB, f.wav)), f.wav).samples);
      const fe = new MelFrontend(gpu, s);
      const got = await fe.melBatch(clips);
      manifest.files.forEach((f, i) => {
        expect([s.nMels, got[i]!.frames]).toEqual(f.shape);
        expectLibrosa(`${setting} ${f.wav} GPU`, got[i]!.power, got[i]!.db, f32(join(FIX, setting, f.power)), f32(join(FIX, setting, f.db)));
      });
    });

    it('float64 CPU reference matches librosa too', () => {
      const f = manifest.files[0]!;
      const x = decodeAudio(readFileSync(join(EMODB, f.wav)), f.wav).samples;
      const ref = melSpectrogramRef(x, s);
      expectLibrosa(`${setting} ${f.wav} CPU f64`, ref.power, ref.db, f32(join(FIX, setting, f.power)), f32(join(FIX, setting, f.db)), true);
    });
  });
}

describe('ser mel --json', () => {
  it('prints librosa-shaped power and dB for a fixture file; bad input exits non-zero naming the file', async () => {
    const { mel } = await import('../src/cli/mel.js');
    const { vi } = await import('vitest');
    const manifest = JSON.parse(readFileSync(join(FIX, 'htk', 'manifest.json'), 'utf8')) as Manifest;
    const f = manifest.files[0]!;
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    let rc: number;
    try {
      rc = await mel([join(EMODB, f.wav), '--n-fft', '512', '--hop', '160', '--n-mels', '64', '--fmin', '20', '--fmax', '7600', '--mel-scale', 'htk', '--mel-norm', 'none', '--json']);
    } finally {
      spy.mockRestore();
    }
    expect(rc).toBe(0);
    const j = JSON.parse(out) as { shape: number[]; power: number[]; db: number[] };
    expect(j.shape).toEqual(f.shape);
    expectClose('ser mel --json (htk setting) dB', j.db, f32(join(FIX, 'htk', f.db)), TOL.db);
    await expect(mel(['/nonexistent/x.wav', '--json'])).rejects.toThrow(/^\/nonexistent\/x\.wav: cannot read: ENOENT$/);
  });
});
