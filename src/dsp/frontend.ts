// The GPU mel front end: many clips in one pass through framing, FFT, mel
// projection, power_to_db and per-clip min-max scaling, then the model's input
// layout. Reference: melSpectrogramRef in src/ref/melspec.ts (float64, CPU).
import type { Gpu } from '../kernels/gpu.js';
import { Recorder } from '../kernels/kernel.js';
import { fftPower, fusedFftSize, pairCount, stftFrames, stftMel, twiddles } from '../kernels/stft.js';
import { melProject } from '../kernels/mel_project.js';
import { clipMinMax, powerToDb } from '../kernels/power_to_db.js';
import { filterRanges, melFilterbank, type MelNorm, type MelScale } from './mel.js';

// The frame count and the window are written here, not taken from src/ref/melspec.ts,
// so that the librosa goldens and the reference check this code rather than share it.

/** Frames of a centred STFT (librosa center=True): 1 + floor(n / hop). */
export function frameCount(n: number, hop: number): number {
  return 1 + Math.floor(n / hop);
}

/** The periodic Hann window (scipy get_window('hann', n, fftbins=True)), uploaded once per front end. */
function hannWindow(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, k) => 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / n));
}

export interface FrontendSettings {
  sampleRate: number;
  nFft: number;
  hop: number;
  nMels: number;
  fmin: number;
  /** Upper mel edge in Hz; sampleRate / 2 when undefined. */
  fmax?: number;
  melScale: MelScale;
  melNorm: MelNorm;
  topDb: number;
  amin: number;
  /** Model input: chunks of the spectrogram along time (the model's depth D). */
  timesteps: number;
  /** Model input: frames per chunk (the model's width W). */
  framesPerStep: number;
}

/** librosa's defaults for the spectrogram; 3 × 60 frames for the model. */
export const DEFAULT_FRONTEND: FrontendSettings = {
  sampleRate: 22050,
  nFft: 2048,
  hop: 512,
  nMels: 128,
  fmin: 0,
  melScale: 'slaney',
  melNorm: 'slaney',
  topDb: 80,
  amin: 1e-10,
  timesteps: 3,
  framesPerStep: 60,
};

export interface MelResult {
  frames: number;
  /** Mel power, row-major [nMels][frames] (librosa's layout). */
  power: Float32Array;
  /** power_to_db(power, ref=max, amin, top_db), [nMels][frames]. */
  db: Float32Array;
  /** db min-max scaled to [0, 1] over the clip, [nMels][frames]. */
  scaled: Float32Array;
}

/** Per-setting device constants: window, twiddles, filterbank and its non-zero ranges. */
interface Constants {
  window: GPUBuffer;
  twiddle: GPUBuffer;
  fb: GPUBuffer;
  ranges: GPUBuffer;
}
const constantCache = new WeakMap<Gpu, Map<string, Constants>>();

/** Bytes the largest per-chunk buffer (the packed frames) may take. */
const CHUNK_BYTES = 64 * 2 ** 20;

export function validateSettings(s: FrontendSettings): void {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  };
  int(s.sampleRate, 'sampleRate', 1);
  int(s.nFft, 'nFft', 2);
  if (s.nFft & (s.nFft - 1)) throw new RangeError(`nFft must be a power of two, got ${s.nFft}`);
  int(s.hop, 'hop', 1);
  int(s.nMels, 'nMels', 1);
  int(s.timesteps, 'timesteps', 1);
  int(s.framesPerStep, 'framesPerStep', 1);
  const fmax = s.fmax ?? s.sampleRate / 2;
  if (!(s.fmin >= 0 && fmax > s.fmin)) throw new RangeError(`need 0 <= fmin < fmax, got fmin ${s.fmin}, fmax ${fmax}`);
  if (!(s.amin > 0) || !(s.topDb >= 0)) throw new RangeError('amin must be > 0 and topDb >= 0');
}

/**
 * How the mel power is computed: 'fused' (framing, radix-16 FFT, |X|² and mel
 * projection in one dispatch; the default where workgroup memory holds a frame
 * pair) or 'staged' (framing pass, radix-2 or multi-pass FFT into a power
 * buffer, mel projection; for larger n_fft, and for comparison in bench/).
 */
export type StftPath = 'fused' | 'staged';

export class MelFrontend {
  readonly settings: FrontendSettings;
  readonly stftPath: StftPath;
  private readonly consts: Constants;

  constructor(
    readonly gpu: Gpu,
    settings: Partial<FrontendSettings> = {},
    path?: StftPath,
  ) {
    this.settings = { ...DEFAULT_FRONTEND, ...settings };
    validateSettings(this.settings);
    const fits = fusedFftSize(gpu, this.settings.nFft) > 0;
    if (path === 'fused' && !fits) throw new RangeError(`n_fft ${this.settings.nFft} is too large for the fused STFT on this device`);
    this.stftPath = path ?? (fits ? 'fused' : 'staged');
    this.consts = this.constants();
  }

  private constants(): Constants {
    const s = this.settings;
    const key = JSON.stringify([s.sampleRate, s.nFft, s.nMels, s.fmin, s.fmax ?? null, s.melScale, s.melNorm]);
    let byGpu = constantCache.get(this.gpu);
    if (!byGpu) constantCache.set(this.gpu, (byGpu = new Map()));
    let c = byGpu.get(key);
    if (!c) {
      const fb = melFilterbank(s);
      const bins = s.nFft / 2 + 1;
      c = {
        window: this.gpu.upload(hannWindow(s.nFft), 'hann window'),
        twiddle: this.gpu.upload(twiddles(s.nFft), 'fft twiddles'),
        fb: this.gpu.upload(Float32Array.from(fb), 'mel filterbank'),
        ranges: this.gpu.upload(filterRanges(fb, s.nMels, bins), 'mel ranges'),
      };
      byGpu.set(key, c);
    }
    return c;
  }

  /** Frames per GPU chunk, bounded by the binding size limit and CHUNK_BYTES (for the largest per-frame buffer: the staged path's packed frames, nFft·4 bytes). */
  private maxChunkFrames(): number {
    const bytes = Math.min(CHUNK_BYTES, this.gpu.limits.maxStorageBufferBindingSize);
    return Math.max(2, Math.floor(bytes / (this.settings.nFft * 4)) & ~1);
  }

  /** Mel power, dB and scaled dB of every clip (already at settings.sampleRate). */
  async melBatch(clips: Float32Array[]): Promise<MelResult[]> {
    const maxFrames = this.maxChunkFrames();
    const maxClips = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    const out: MelResult[] = [];
    let start = 0;
    while (start < clips.length) {
      let end = start;
      let frames = 0;
      while (end < clips.length && end - start < maxClips) {
        const f = frameSlots(clips[end]!.length, this.settings.hop);
        if (f > maxFrames) throw new RangeError(`clip ${end} has ${f} frames, more than the ${maxFrames} one GPU pass holds at n_fft ${this.settings.nFft}; split it`);
        if (frames + f > maxFrames) break;
        frames += f;
        end++;
      }
      out.push(...(await this.chunk(clips.slice(start, end), frames)));
      start = end;
    }
    return out;
  }

  private async chunk(clips: Float32Array[], frames: number): Promise<MelResult[]> {
    const s = this.settings;
    const gpu = this.gpu;
    const bins = s.nFft / 2 + 1;
    const frameInfo = new Uint32Array(4 * frames);
    const clipInfo = new Uint32Array(4 * clips.length);
    let samples = 0;
    for (const c of clips) samples += c.length;
    const signal = new Float32Array(Math.max(1, samples));
    let off = 0;
    let f = 0;
    let outOff = 0;
    let maxCount = 0;
    clips.forEach((c, ci) => {
      signal.set(c, off);
      const nf = frameCount(c.length, s.hop);
      clipInfo.set([f, nf, outOff, nf * s.nMels], 4 * ci);
      // A clip with an odd frame count gets a padding slot (t = nf, past its end): mel_project skips it.
      for (let t = 0; t < frameSlots(c.length, s.hop); t++, f++) frameInfo.set([off, c.length, t, ci], 4 * f);
      off += c.length;
      outOff += nf * s.nMels;
      maxCount = Math.max(maxCount, nf * s.nMels);
    });
    const pool = gpu.pool;
    const put = (data: Float32Array | Uint32Array, label: string) => {
      const b = pool.acquire(data.byteLength, label);
      gpu.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
      return b;
    };
    const sigBuf = put(signal, 'signal');
    const frameBuf = put(frameInfo, 'frame info');
    const clipBuf = put(clipInfo, 'clip info');
    const mel = pool.acquire(outOff * 4, 'mel');
    const db = pool.acquire(outOff * 4, 'mel db');
    const scaled = pool.acquire(outOff * 4, 'mel scaled');
    const stats = pool.acquire(clips.length * 8, 'clip stats');
    const shape = { nFft: s.nFft, hop: s.hop, frames };
    const dbShape = { clips: clips.length, maxCount, amin: s.amin, topDb: s.topDb };
    const r = new Recorder(gpu, 'mel front end');
    const c = this.consts;
    if (this.stftPath === 'fused') {
      const buffers = { signal: sigBuf, frameInfo: frameBuf, clipInfo: clipBuf, window: c.window, twiddle: c.twiddle, fb: c.fb, ranges: c.ranges };
      stftMel(r, mel, buffers, { ...shape, nMels: s.nMels });
    } else {
      const pairs = pool.acquire(pairCount(frames) * s.nFft * 8, 'stft pairs');
      const power = pool.acquire(frames * bins * 4, 'power spectrum');
      stftFrames(r, pairs, sigBuf, frameBuf, c.window, shape);
      fftPower(r, power, pairs, c.twiddle, shape);
      melProject(r, mel, power, frameBuf, clipBuf, c.fb, c.ranges, { nMels: s.nMels, bins, frames });
      r.releaseAfterSubmit(pairs);
      r.releaseAfterSubmit(power);
    }
    clipMinMax(r, stats, clipBuf, mel, dbShape);
    powerToDb(r, db, scaled, clipBuf, stats, mel, dbShape);
    r.submit();
    const [melHost, dbHost, scaledHost] = await Promise.all([gpu.readF32(mel, outOff), gpu.readF32(db, outOff), gpu.readF32(scaled, outOff)]);
    for (const b of [sigBuf, frameBuf, clipBuf, mel, db, scaled, stats]) pool.release(b);
    return clips.map((_, ci) => {
      const nf = clipInfo[4 * ci + 1]!;
      const o = clipInfo[4 * ci + 2]!;
      const n = nf * s.nMels;
      return { frames: nf, power: melHost.slice(o, o + n), db: dbHost.slice(o, o + n), scaled: scaledHost.slice(o, o + n) };
    });
  }

  /**
   * Model inputs, one Float32Array per clip shaped [timesteps, nMels, framesPerStep, 1]
   * (channels-last): chunk c holds frames c·framesPerStep … of the [0, 1]-scaled
   * log-mel as [nMels][framesPerStep]; frames past the clip's end are 0, frames
   * past timesteps·framesPerStep are dropped.
   */
  async modelInputs(clips: Float32Array[]): Promise<Float32Array[]> {
    return (await this.melBatch(clips)).map((m) => toModelInput(m.scaled, m.frames, this.settings));
  }
}

/**
 * Frame slots of a clip in a GPU pass: its frame count rounded up to even. The
 * FFT transforms two real frames as one complex sequence, and the error of one
 * leaks into the other at float32 rounding (~-140 dB of the louder frame); with
 * pairs kept inside a clip, that stays far below the clip's own top_db floor,
 * whereas a silent clip paired with a loud one would be measurably disturbed.
 */
export function frameSlots(n: number, hop: number): number {
  const f = frameCount(n, hop);
  return f + (f & 1);
}

/** Lays a [nMels][frames] spectrogram out as [timesteps][nMels][framesPerStep] (zero-padded or truncated). */
export function toModelInput(scaled: ArrayLike<number>, frames: number, s: Pick<FrontendSettings, 'nMels' | 'timesteps' | 'framesPerStep'>): Float32Array {
  const W = s.framesPerStep;
  const out = new Float32Array(s.timesteps * s.nMels * W);
  for (let c = 0; c < s.timesteps; c++) {
    for (let m = 0; m < s.nMels; m++) {
      for (let j = 0; j < W; j++) {
        const t = c * W + j;
        if (t < frames) out[(c * s.nMels + m) * W + j] = scaled[m * frames + t]!;
      }
    }
  }
  return out;
}
