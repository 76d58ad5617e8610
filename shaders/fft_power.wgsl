// Power spectra of two real frames from the FFT of their packed pair (the last
// step of the multi-pass FFT; fft_stockham.wgsl does the same in workgroup memory).
//
// Math: Z = DFT(x_a + i·x_b); power_a[k] = |Z[k] + Z*[N-k]|² / 4,
//   power_b[k] = |Z[k] - Z*[N-k]|² / 4 for k = 0 … N/2.
// Layouts: spectrum [pairs][N] vec2f; power [frames][N/2 + 1] f32.
// Dispatch: one thread per (pair, bin), pairs·(N/2+1) threads in 1-D, folded into y (grid1d).
// Bindings: 0 params {n, frames, pairs}, 1 spectrum (read), 2 power (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
  frames: u32,
  pairs: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> spectrum: array<vec2f>;
@group(0) @binding(2) var<storage, read_write> power: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let bins = params.n / 2u + 1u;
  if (i >= params.pairs * bins) {
    return;
  }
  let pair = i / bins;
  let k = i - pair * bins;
  let base = pair * params.n;
  let z = spectrum[base + k];
  let c = spectrum[base + ((params.n - k) & (params.n - 1u))];
  let zc = vec2f(c.x, -c.y);
  let fa = 2u * pair;
  let xa = z + zc;
  power[fa * bins + k] = 0.25 * dot(xa, xa);
  if (fa + 1u < params.frames) {
    let xb = z - zc;
    power[(fa + 1u) * bins + k] = 0.25 * dot(xb, xb);
  }
}
