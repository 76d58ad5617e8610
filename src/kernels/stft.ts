// STFT power spectrum on the GPU: framing (centre padding, Hann window, any hop)
// and a Stockham FFT, batched over frames of many clips. Shaders:
// stft_mel.wgsl (framing, radix-16 FFT in workgroup memory and mel projection
// in one kernel: the fast path), or the staged kernels stft_frames.wgsl, then
// fft_stockham.wgsl (radix 2, workgroup memory) or fft_stockham_global.wgsl +
// fft_power.wgsl (multi-pass, for sizes whose buffer exceeds workgroup memory),
// followed by mel_project.wgsl.
// Reference: powerSpectrogramRef in src/ref/melspec.ts.
import type { Gpu } from './gpu-core.js';
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export const STFT_MEL: KernelSpec = {
  shader: 'stft_mel',
  params: [
    ['hop', 'u32'],
    ['pad', 'u32'],
    ['frames', 'u32'],
    ['pairs', 'u32'],
    ['groups_x', 'u32'],
    ['n_mels', 'u32'],
  ],
  inputs: ['signal', 'frameInfo', 'clipInfo', 'window', 'twiddle', 'fb', 'ranges'],
  outputs: ['mel'],
};

export const STFT_FRAMES: KernelSpec = {
  shader: 'stft_frames',
  params: [
    ['n_fft', 'u32'],
    ['hop', 'u32'],
    ['pad', 'u32'],
    ['frames', 'u32'],
    ['pairs', 'u32'],
  ],
  inputs: ['signal', 'frameInfo', 'window'],
  outputs: ['out'],
};

export const FFT_STOCKHAM: KernelSpec = {
  shader: 'fft_stockham',
  params: [
    ['log2n', 'u32'],
    ['frames', 'u32'],
    ['pairs', 'u32'],
    ['groups_x', 'u32'],
  ],
  inputs: ['pairs', 'twiddle'],
  outputs: ['power'],
};

export const FFT_STOCKHAM_GLOBAL: KernelSpec = {
  shader: 'fft_stockham_global',
  params: [
    ['n', 'u32'],
    ['stage', 'u32'],
    ['pairs', 'u32'],
  ],
  inputs: ['src', 'twiddle'],
  outputs: ['dst'],
};

export const FFT_POWER: KernelSpec = {
  shader: 'fft_power',
  params: [
    ['n', 'u32'],
    ['frames', 'u32'],
    ['pairs', 'u32'],
  ],
  inputs: ['spectrum'],
  outputs: ['power'],
};

export interface StftShape {
  nFft: number;
  hop: number;
  /** Frames over all clips (frame_info entries). */
  frames: number;
}

const WG = 256;
/** Butterflies per thread the workgroup FFT keeps in registers (MAX_PER in the shader). */
const MAX_PER = 8;
/** Threads of the single-pass FFT's workgroup. */
const FFT_WG = 256;

export function pairCount(frames: number): number {
  return Math.ceil(frames / 2);
}

/** Frames of every clip, two real frames per complex row: out [pairs][nFft] vec2f. */
export function stftFrames(r: Recorder, out: GPUBuffer, signal: GPUBuffer, frameInfo: GPUBuffer, window: GPUBuffer, s: StftShape): void {
  const pairs = pairCount(s.frames);
  r.dispatch(STFT_FRAMES, {
    params: { n_fft: s.nFft, hop: s.hop, pad: Math.floor(s.nFft / 2), frames: s.frames, pairs },
    buffers: { signal, frameInfo, window, out },
    constants: { WG },
    workgroups: grid1d(r.gpu, pairs * s.nFft, WG),
  });
}

/** Workgroup size of the single-pass FFT for n, or 0 when n needs the multi-pass variant on this device. */
export function workgroupFftSize(gpu: Gpu, n: number): number {
  const half = n / 2;
  const wg = Math.min(half, FFT_WG, gpu.limits.maxComputeInvocationsPerWorkgroup);
  const fits = 8 * n <= gpu.limits.maxComputeWorkgroupStorageSize;
  return fits && half / wg <= MAX_PER ? wg : 0;
}

/** Workgroup size of the fused framing + radix-16 FFT + mel kernel for n, or 0 when this device needs the staged kernels. */
export function fusedFftSize(gpu: Gpu, n: number): number {
  const wg = Math.max(1, n / 16);
  const fits = 8 * n <= gpu.limits.maxComputeWorkgroupStorageSize;
  const bindings = STFT_MEL.inputs.length + STFT_MEL.outputs.length <= gpu.limits.maxStorageBuffersPerShaderStage;
  return fits && bindings && wg <= gpu.limits.maxComputeInvocationsPerWorkgroup ? wg : 0;
}

export interface StftMelBuffers {
  signal: GPUBuffer;
  /** Per frame slot (offset of the clip in signal, clip length, t, clip); slots paired inside clips. */
  frameInfo: GPUBuffer;
  /** Per clip (first frame, frame count F, output offset, n_mels·F). */
  clipInfo: GPUBuffer;
  window: GPUBuffer;
  /** twiddles(nFft). */
  twiddle: GPUBuffer;
  /** Filterbank [nMels][nFft/2 + 1]. */
  fb: GPUBuffer;
  /** Each filter's non-zero bins [start, end) (filterRanges). */
  ranges: GPUBuffer;
}

/**
 * Mel power of every frame straight from the signal, in one dispatch: framing,
 * FFT, |X|² and the mel projection (stft_mel.wgsl), written per clip as
 * [nMels][F] at its output offset. Only where fusedFftSize(gpu, nFft) > 0.
 */
export function stftMel(r: Recorder, mel: GPUBuffer, b: StftMelBuffers, s: StftShape & { nMels: number }): void {
  const n = s.nFft;
  if (n < 2 || n & (n - 1)) throw new RangeError(`stftMel: n_fft ${n} must be a power of two >= 2`);
  const wg = fusedFftSize(r.gpu, n);
  if (wg === 0) throw new RangeError(`stftMel: n_fft ${n} does not fit this device's workgroup limits; use the staged kernels`);
  const np = pairCount(s.frames);
  const [gx, gy] = grid1d(r.gpu, np, 1);
  r.dispatch(STFT_MEL, {
    params: { hop: s.hop, pad: Math.floor(n / 2), frames: s.frames, pairs: np, groups_x: gx, n_mels: s.nMels },
    buffers: { ...b, mel },
    constants: { LOG2N: Math.log2(n), WG: wg },
    workgroups: [gx, gy],
  });
}

/** Twiddles W^j = exp(-2πij/n), j < n, computed in float64 (the radix-2 kernels use j < n/2). */
export function twiddles(n: number): Float32Array {
  const t = new Float32Array(2 * n);
  for (let j = 0; j < n; j++) {
    t[2 * j] = Math.cos((-2 * Math.PI * j) / n);
    t[2 * j + 1] = Math.sin((-2 * Math.PI * j) / n);
  }
  return t;
}

/**
 * |FFT|² of each frame, bins 0 … nFft/2: power [frames][nFft/2 + 1]. `pairs` is
 * stftFrames' output; the multi-pass variant overwrites it (it is its ping-pong
 * buffer) and borrows a second one from the pool. `forceGlobal` selects the
 * multi-pass variant even where the single pass fits (for tests).
 */
export function fftPower(r: Recorder, power: GPUBuffer, pairs: GPUBuffer, twiddle: GPUBuffer, s: StftShape, forceGlobal = false): void {
  const n = s.nFft;
  if (n < 2 || n & (n - 1)) throw new RangeError(`fftPower: n_fft ${n} must be a power of two >= 2`);
  const log2n = Math.log2(n);
  const np = pairCount(s.frames);
  const wg = forceGlobal ? 0 : workgroupFftSize(r.gpu, n);
  if (wg > 0) {
    const [gx, gy] = grid1d(r.gpu, np, 1);
    r.dispatch(FFT_STOCKHAM, {
      params: { log2n, frames: s.frames, pairs: np, groups_x: gx },
      buffers: { pairs, twiddle, power },
      constants: { N: n, WG: wg },
      workgroups: [gx, gy],
    });
    return;
  }
  const other = r.pool.acquire(np * n * 8, 'fft ping-pong');
  let src = pairs;
  let dst = other;
  for (let stage = 0; stage < log2n; stage++) {
    r.dispatch(FFT_STOCKHAM_GLOBAL, {
      params: { n, stage, pairs: np },
      buffers: { src, twiddle, dst },
      constants: { WG },
      workgroups: grid1d(r.gpu, (np * n) / 2, WG),
    });
    [src, dst] = [dst, src];
  }
  r.dispatch(FFT_POWER, {
    params: { n, frames: s.frames, pairs: np },
    buffers: { spectrum: src, power },
    constants: { WG },
    workgroups: grid1d(r.gpu, np * (n / 2 + 1), WG),
  });
  r.releaseAfterSubmit(other);
}
