// STFT framing: centre zero padding, periodic Hann window, any hop; two frames
// packed into one complex sequence for the FFT.
//
// Math: frame f of a clip x of length L starts at t·hop - n_fft/2 (librosa's
// center=True with pad_mode="constant"): for k < n_fft,
//   frame_f[k] = window[k] · (0 <= j < L ? x[j] : 0),  j = t·hop + k - n_fft/2,
// where t is the frame's index inside its clip. The hop need not divide n_fft.
// Frames 2p and 2p+1 go into the real and imaginary parts of pair p, so one
// complex FFT transforms two real frames (fft_stockham separates them).
//
// Layouts: signal = all clips concatenated (f32); frame_info[f] = (offset of the
//   clip in signal, clip length, t, clip index) for f < frames; window [n_fft];
//   out = pairs [pairs][n_fft] of vec2f (frame 2p real, frame 2p+1 imaginary,
//   zero when 2p+1 == frames).
// Dispatch: one thread per (pair, k), pairs·n_fft threads in 1-D, folded into y (grid1d).
// Bindings: 0 params {n_fft, hop, pad, frames, pairs}, 1 signal, 2 frame_info,
//           3 window (read), 4 out (read_write).
override WG: u32 = 256;

struct Params {
  n_fft: u32,
  hop: u32,
  pad: u32,
  frames: u32,
  pairs: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> signal: array<f32>;
@group(0) @binding(2) var<storage, read> frame_info: array<vec4u>;
@group(0) @binding(3) var<storage, read> window: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<vec2f>;

fn sample(f: u32, k: u32) -> f32 {
  if (f >= params.frames) {
    return 0.0;
  }
  let info = frame_info[f];
  // j = t·hop + k - pad, kept unsigned: j < 0 shows up as start + k < pad.
  let start = info.z * params.hop + k;
  if (start < params.pad) {
    return 0.0;
  }
  let j = start - params.pad;
  if (j >= info.y) {
    return 0.0;
  }
  return signal[info.x + j] * window[k];
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.pairs * params.n_fft) {
    return;
  }
  let p = i / params.n_fft;
  let k = i - p * params.n_fft;
  out[i] = vec2f(sample(2u * p, k), sample(2u * p + 1u, k));
}
