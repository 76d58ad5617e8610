// Golden tests of the mel front end against librosa: the filterbank, and the GPU
// front end's mel power and power_to_db for every fixture setting; plus the float64
// CPU reference against the same fixtures. The fixtures (test/fixtures/librosa, made
// by bench/librosa_fixtures.py with librosa 0.11.0) were computed from EmoDB's original
// recordings in ../shared/data/emodb-original at their native 16 kHz; the test feeds
// the same files to the front end at that rate, so resampling (test/resample.test.ts)
// plays no part.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getGpu } from '../src/kernels/gpu.js';
import { MelFrontend, type FrontendSettings } from '../src/dsp/frontend.js';
import { melFilterbank } from '../src/dsp/mel.js';
import { melSpectrogramRef } from '../src/ref/melspec.js';
import { decodeAudio } from '../src/dsp/wav.js';
import { expectClose, maxAbs } from './util/check.js';

const FIX = fileURLToPath(new URL('./fixtures/librosa/', import.meta.url));
const EMODB = join('..', 'shared', 'data', 'emodb-original');

/** NAME.json of a fixture setting; offsets and sizes count float32 elements of NAME.f32 (see bench/librosa_fixtures.py). */
interface Manifest {
  versions: { librosa: string };
  params: { sr: number; n_fft: number; hop_length: number; n_mels: number; fmin: number; fmax: number | null; htk: boolean; norm: string | null };
  data: string;
  /** Row m's non-zero values lie in bins spans[m][0] … spans[m][1] − 1, stored one row after another from offset. */
  filterbank: { offset: number; shape: [number, number]; spans: [number, number][] };
  files: { wav: string; samples: number; sha256: string; shape: [number, number]; power: number; db: number }[];
}

interface Fixture {
  setting: string;
  manifest: Manifest;
  /** librosa.filters.mel's matrix, dense, [n_mels][n_fft/2 + 1]. */
  filterbank: Float32Array;
  files: { wav: string; samples: Float32Array; power: Float32Array; db: Float32Array; shape: [number, number] }[];
}

/**
 * Tolerances (atol + rtol·|librosa|): the filterbank after dividing each row by its
 * peak; dB absolute; power where librosa's is above the top_db floor, atol a fraction
 * of the clip's largest power. Both sides compute in float32 with different FFTs, so
 * the power differs by rounding, most (relatively) in the weakest bins the floor keeps;
 * 0.05 dB is what a faithful float32 implementation holds. Seen on lavapipe: at most
 * 2.2e-4 dB and 5.0e-5 relative power (GPU), 1.4e-5 dB (CPU float64), filterbank 4 % of
 * its tolerance; a 1-Hz shift of fmin, the other mel scale or the other norm fails by
 * 1.2 dB or more.
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

/**
 * A setting's fixture with its input recordings, each checked to be byte for byte the
 * file librosa read (so a failure below is the front end's, not a changed input).
 */
function loadFixture(setting: string): Fixture {
  // The fixture is little-endian and read here in the machine's byte order.
  if (endianness() !== 'LE') throw new Error('the librosa fixtures are little-endian; this machine is not');
  const manifest = JSON.parse(readFileSync(join(FIX, `${setting}.json`), 'utf8')) as Manifest;
  const data = f32(join(FIX, manifest.data));
  const [rows, bins] = manifest.filterbank.shape;
  const filterbank = new Float32Array(rows * bins);
  let end = manifest.filterbank.offset;
  manifest.filterbank.spans.forEach(([a, b], m) => {
    filterbank.set(data.subarray(end, end + b - a), m * bins + a);
    end += b - a;
  });
  const files = manifest.files.map((f) => {
    const n = f.shape[0] * f.shape[1];
    end = Math.max(end, f.power + n, f.db + n);
    const path = join(EMODB, f.wav);
    const bytes = readFileSync(path);
    if (createHash('sha256').update(bytes).digest('hex') !== f.sha256) throw new Error(`${path} is not the recording the ${setting} fixture was made from (SHA-256 differs)`);
    const audio = decodeAudio(bytes, f.wav);
    if (audio.sampleRate !== manifest.params.sr || audio.samples.length !== f.samples) {
      throw new Error(`${path}: decoded ${audio.samples.length} samples at ${audio.sampleRate} Hz, the fixture has ${f.samples} at ${manifest.params.sr} Hz`);
    }
    return { wav: f.wav, samples: audio.samples, power: data.subarray(f.power, f.power + n), db: data.subarray(f.db, f.db + n), shape: f.shape };
  });
  if (end !== data.length) throw new Error(`${manifest.data}: ${data.length} elements, but the arrays ${setting}.json lists end at ${end}`);
  return { setting, manifest, filterbank, files };
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
  const fix = loadFixture(setting);
  const s = settingsOf(fix.manifest);
  describe(`librosa ${fix.manifest.versions.librosa} golden, ${setting} (${s.sampleRate} Hz, n_fft ${s.nFft}, hop ${s.hop}, ${s.nMels} mels, ${s.melScale}/${s.melNorm})`, () => {
    it('filterbank matches librosa.filters.mel within 1e-6 relative', () => {
      const want = fix.filterbank;
      const [rows, bins] = fix.manifest.filterbank.shape;
      const got = melFilterbank(s);
      expect(got.length).toBe(rows * bins);
      // Row by row relative to the row's peak (an empty row is compared as is).
      const peaks = Array.from({ length: rows }, (_, m) => maxAbs(want.subarray(m * bins, (m + 1) * bins)) || 1);
      const perPeak = (a: ArrayLike<number>) => Float64Array.from({ length: rows * bins }, (_, i) => a[i]! / peaks[Math.floor(i / bins)]!);
      expectClose(`${setting} filterbank / row peak`, perPeak(got), perPeak(want), TOL.filterbank);
    });

    it(`GPU mel power and power_to_db match librosa on all ${fix.files.length} fixture files (batched, ${fix.files.map((f) => f.shape[1]).join('/')} frames)`, async () => {
      const fe = new MelFrontend(gpu, s);
      const got = await fe.melBatch(fix.files.map((f) => f.samples));
      fix.files.forEach((f, i) => {
        expect([s.nMels, got[i]!.frames]).toEqual(f.shape);
        expectLibrosa(`${setting} ${f.wav} GPU`, got[i]!.power, got[i]!.db, f.power, f.db);
      });
    });

    it('float64 CPU reference matches librosa too', () => {
      const f = fix.files[0]!;
      const ref = melSpectrogramRef(f.samples, s);
      expectLibrosa(`${setting} ${f.wav} CPU f64`, ref.power, ref.db, f.power, f.db, true);
    });
  });
}

describe('ser mel --json', () => {
  it('prints librosa-shaped power and dB for a fixture file; bad input exits non-zero naming the file', async () => {
    const { mel } = await import('../src/cli/mel.js');
    const { vi } = await import('vitest');
    const fix = loadFixture('htk');
    const s = settingsOf(fix.manifest);
    const f = fix.files[0]!;
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    let rc: number;
    try {
      // --sr at the file's own rate, so the command does not resample.
      rc = await mel([join(EMODB, f.wav), '--sr', String(s.sampleRate), '--n-fft', String(s.nFft), '--hop', String(s.hop), '--n-mels', String(s.nMels),
        '--fmin', String(s.fmin), '--fmax', String(s.fmax), '--mel-scale', s.melScale, '--mel-norm', s.melNorm, '--json']);
    } finally {
      spy.mockRestore();
    }
    expect(rc).toBe(0);
    const j = JSON.parse(out) as { shape: number[]; power: number[]; db: number[] };
    expect(j.shape).toEqual(f.shape);
    expectClose('ser mel --json (htk setting) dB', j.db, f.db, TOL.db);
    await expect(mel(['/nonexistent/x.wav', '--json'])).rejects.toThrow(/^\/nonexistent\/x\.wav: cannot read: ENOENT$/);
  });
});
