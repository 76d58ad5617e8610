// Mel projection of power spectra into each clip's [n_mels][frames] layout.
// Shader: mel_project.wgsl. Reference: melSpectrogramRef in src/ref/melspec.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export const MEL_PROJECT: KernelSpec = {
  shader: 'mel_project',
  params: [
    ['n_mels', 'u32'],
    ['bins', 'u32'],
    ['frames', 'u32'],
  ],
  inputs: ['power', 'frameInfo', 'clipInfo', 'fb', 'ranges'],
  outputs: ['mel'],
};

export interface MelProjectShape {
  nMels: number;
  /** nFft/2 + 1. */
  bins: number;
  frames: number;
}

const WG = 256;

export function melProject(
  r: Recorder,
  mel: GPUBuffer,
  power: GPUBuffer,
  frameInfo: GPUBuffer,
  clipInfo: GPUBuffer,
  fb: GPUBuffer,
  ranges: GPUBuffer,
  s: MelProjectShape,
): void {
  r.dispatch(MEL_PROJECT, {
    params: { n_mels: s.nMels, bins: s.bins, frames: s.frames },
    buffers: { power, frameInfo, clipInfo, fb, ranges, mel },
    constants: { WG },
    workgroups: grid1d(r.gpu, s.frames * s.nMels, WG),
  });
}
