// `ser mel`: the mel spectrogram of one audio file, computed by the GPU front end
// (resampled first when the file's rate differs), as JSON, a summary or a PNG.
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { getGpu } from '../kernels/gpu.js';
import { MelFrontend, DEFAULT_FRONTEND, type FrontendSettings } from '../dsp/frontend.js';
import { readAudioFile } from '../dsp/wav.js';
import { resample } from '../dsp/resample.js';
import type { MelNorm, MelScale } from '../dsp/mel.js';
import { num, parseCommand, UsageError, type CommandDef, type OptionDef } from './args.js';

const MEL = {
  usage: 'Usage: ser mel FILE [options]',
  about: `Mel spectrogram of a WAV/AIFF file on the GPU, with librosa's semantics
(melspectrogram with center=True, constant padding, periodic Hann window,
power 2; power_to_db with ref=max, amin 1e-10, top_db 80).`,
  options: {
    sr: { kind: 'int', arg: 'N', help: 'sample rate to analyse at; the file is resampled if it differs', default: DEFAULT_FRONTEND.sampleRate, min: 1 },
    'n-fft': { kind: 'int', arg: 'N', help: 'FFT size, a power of two', default: DEFAULT_FRONTEND.nFft, min: 2 },
    hop: { kind: 'int', arg: 'N', help: 'hop length in samples', default: DEFAULT_FRONTEND.hop, min: 1 },
    'n-mels': { kind: 'int', arg: 'N', help: 'mel bands', default: DEFAULT_FRONTEND.nMels, min: 1 },
    fmin: { kind: 'number', arg: 'F', help: 'lowest mel edge in Hz', default: 0, min: 0 },
    fmax: { kind: 'string', arg: 'F', help: 'highest mel edge in Hz (default sr/2)' },
    'mel-scale': { kind: 'choice', arg: 'S', help: 'slaney | htk', values: ['slaney', 'htk'], default: 'slaney' },
    'mel-norm': { kind: 'choice', arg: 'S', help: 'slaney | none', values: ['slaney', 'none'], default: 'slaney' },
    json: { kind: 'flag', help: 'print {"shape":[n_mels, frames], "power":[…], "db":[…]} (row-major)' },
    png: { kind: 'string', arg: 'OUT', help: 'draw the spectrogram (scaled dB, viridis, low frequencies at the bottom)' },
  },
  positionals: true,
} as const satisfies CommandDef<Record<string, OptionDef>>;

export async function mel(argv: string[]): Promise<number> {
  const args = parseCommand(argv, MEL);
  if (!args) return 0;
  const { values: v, positionals } = args;
  if (positionals.length !== 1) throw new UsageError(`expected one FILE, got ${positionals.length}\n\n${args.help}`);
  const file = positionals[0]!;
  const sr = v.sr;
  const settings: Partial<FrontendSettings> = {
    sampleRate: sr,
    nFft: v['n-fft'],
    hop: v.hop,
    nMels: v['n-mels'],
    fmin: v.fmin,
    fmax: v.fmax === undefined ? undefined : num(v.fmax, 'fmax', sr / 2, { min: 0 }),
    melScale: v['mel-scale'],
    melNorm: v['mel-norm'],
  };

  const nFft = settings.nFft!;
  if (nFft & (nFft - 1)) throw new UsageError(`--n-fft must be a power of two, got ${nFft}`);
  if ((settings.fmax ?? sr / 2) <= settings.fmin!) throw new UsageError(`--fmax must exceed --fmin`);

  const audio = await readAudioFile(file, { maxSeconds: 3600 });
  const x = resample(audio.samples, audio.sampleRate, sr);
  const gpu = await getGpu();
  const fe = new MelFrontend(gpu, settings);
  const [m] = await fe.melBatch([x]);
  const s = fe.settings;
  const { frames, power, db, scaled } = m!;

  if (v.png !== undefined) writeFileSync(v.png, drawPng(scaled, s.nMels, frames));
  if (v.json) {
    process.stdout.write(`{"shape":[${s.nMels},${frames}],"power":[${Array.from(power).join(',')}],"db":[${Array.from(db).join(',')}]}\n`);
  } else {
    let maxP = 0;
    let minDb = 0;
    for (const p of power) maxP = Math.max(maxP, p);
    for (const d of db) minDb = Math.min(minDb, d);
    const rate = audio.sampleRate === sr ? `${sr} Hz` : `${audio.sampleRate} Hz → ${sr} Hz`;
    console.log(`${file}: ${audio.container}, ${audio.channels} ch, ${rate}, ${(x.length / sr).toFixed(3)} s`);
    console.log(`mel ${s.nMels} × ${frames} frames (n_fft ${s.nFft}, hop ${s.hop}, ${s.fmin}–${s.fmax ?? sr / 2} Hz, ${s.melScale}/${s.melNorm})`);
    console.log(`max power ${maxP.toExponential(3)}, dB range ${minDb.toFixed(1)} … 0`);
    if (audio.nonFinite > 0) console.log(`warning: ${audio.nonFinite} non-finite samples were replaced by 0`);
    if (v.png !== undefined) console.log(`wrote ${v.png}`);
  }
  return 0;
}

/** Viridis at nine evenly spaced points (matplotlib's map), interpolated linearly. */
const VIRIDIS = [
  [0x44, 0x01, 0x54],
  [0x47, 0x2d, 0x7b],
  [0x3b, 0x52, 0x8b],
  [0x2c, 0x72, 0x8e],
  [0x21, 0x91, 0x8c],
  [0x28, 0xae, 0x80],
  [0x5e, 0xc9, 0x62],
  [0xad, 0xdc, 0x30],
  [0xfd, 0xe7, 0x25],
];

function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as [number, number, number];
}

/** [nMels][frames] values in [0, 1] as a PNG, mel 0 at the bottom, each cell scaled up to a readable size. */
export function drawPng(scaled: Float32Array, nMels: number, frames: number): Buffer {
  const sx = Math.max(1, Math.min(8, Math.floor(768 / frames)));
  const sy = Math.max(1, Math.min(8, Math.floor(384 / nMels)));
  const png = new PNG({ width: frames * sx, height: nMels * sy });
  for (let y = 0; y < png.height; y++) {
    const m = nMels - 1 - Math.floor(y / sy);
    for (let xx = 0; xx < png.width; xx++) {
      const [r, g, b] = viridis(scaled[m * frames + Math.floor(xx / sx)]!);
      const o = 4 * (y * png.width + xx);
      png.data[o] = r;
      png.data[o + 1] = g;
      png.data[o + 2] = b;
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
