// Radix-2 Stockham FFT in workgroup memory, one workgroup per pair of real
// frames, writing the power spectrum |X|² of both frames for bins 0 … N/2.
//
// Math: z = x_a + i·x_b (two real frames, packed by stft_frames). Stockham
// autosort, log2(N) stages with stride s = 1, 2, 4, …: butterfly t < N/2 has
// p = t / s, q = t mod s and
//   a = z[q + s·p], b = z[q + s·p + N/2],
//   z'[q + 2s·p] = a + b,  z'[q + 2s·p + s] = (a - b)·W^(p·s),  W = exp(-2πi/N),
// leaving Z = DFT(z) in natural order. Then, with Z* the conjugate,
//   X_a[k] = (Z[k] + Z*[N-k]) / 2,  X_b[k] = (Z[k] - Z*[N-k]) / (2i),
//   power_a[k] = |Z[k] + Z*[N-k]|² / 4,  power_b[k] = |Z[k] - Z*[N-k]|² / 4.
// Each stage reads its butterflies' inputs into registers, synchronises, then
// writes in place, so the workgroup holds one N-point buffer (8·N bytes).
//
// Layouts: pairs [pairs][N] vec2f; twiddle [N/2] vec2f with W^j (float64-exact,
//   from the CPU); power [frames][N/2 + 1] f32 (frame 2p and 2p+1 from pair p).
// Dispatch: one workgroup per pair, workgroup ids folded into y (x·y >= pairs).
//   WG threads, each doing PER = N / (2·WG) butterflies per stage (PER <= 8).
//   Requires 8·N bytes <= maxComputeWorkgroupStorageSize; fft_stockham_global
//   handles larger N.
// Bindings: 0 params {log2n, frames, pairs, groups_x}, 1 pairs, 2 twiddle (read),
//           3 power (read_write).
override N: u32 = 2048;
override WG: u32 = 256;
const MAX_PER: u32 = 8u;

struct Params {
  log2n: u32,
  frames: u32,
  pairs: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pairs: array<vec2f>;
@group(0) @binding(2) var<storage, read> twiddle: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> power: array<f32>;

var<workgroup> re: array<f32, N>;
var<workgroup> im: array<f32, N>;

fn cmul(a: vec2f, b: vec2f) -> vec2f {
  return vec2f(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  // The pair index is uniform across the workgroup, so the early exit keeps barriers in uniform control flow.
  let pair = wid.x + wid.y * params.groups_x;
  if (pair >= params.pairs) {
    return;
  }
  let tid = lid.x;
  let half = N / 2u;
  let per = half / WG;
  for (var j = tid; j < N; j += WG) {
    let v = pairs[pair * N + j];
    re[j] = v.x;
    im[j] = v.y;
  }
  workgroupBarrier();

  var a: array<vec2f, MAX_PER>;
  var b: array<vec2f, MAX_PER>;
  for (var stage = 0u; stage < params.log2n; stage++) {
    let s = 1u << stage;
    for (var r = 0u; r < per; r++) {
      let t = tid + r * WG;
      let p = t >> stage;
      let q = t & (s - 1u);
      let i0 = q + s * p;
      a[r] = vec2f(re[i0], im[i0]);
      b[r] = vec2f(re[i0 + half], im[i0 + half]);
    }
    workgroupBarrier();
    for (var r = 0u; r < per; r++) {
      let t = tid + r * WG;
      let p = t >> stage;
      let q = t & (s - 1u);
      let o = q + 2u * s * p;
      let sum = a[r] + b[r];
      let dif = cmul(a[r] - b[r], twiddle[p * s]);
      re[o] = sum.x;
      im[o] = sum.y;
      re[o + s] = dif.x;
      im[o + s] = dif.y;
    }
    workgroupBarrier();
  }

  let bins = half + 1u;
  let fa = 2u * pair;
  let has_b = fa + 1u < params.frames;
  for (var k = tid; k < bins; k += WG) {
    let nk = (N - k) & (N - 1u);
    let z = vec2f(re[k], im[k]);
    let zc = vec2f(re[nk], -im[nk]);
    let xa = z + zc;
    power[fa * bins + k] = 0.25 * dot(xa, xa);
    if (has_b) {
      let xb = z - zc;
      power[(fa + 1u) * bins + k] = 0.25 * dot(xb, xb);
    }
  }
}
