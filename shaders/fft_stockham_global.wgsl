// One radix-2 Stockham stage in global memory: the multi-pass FFT for sizes
// whose buffer does not fit in workgroup memory (see fft_stockham.wgsl for the
// math; this is one of its log2(N) stages, ping-ponging between two buffers).
//
// Math: stage with stride s = 2^stage, butterfly t < N/2, p = t / s, q = t mod s:
//   a = src[q + s·p], b = src[q + s·p + N/2],
//   dst[q + 2s·p] = a + b,  dst[q + 2s·p + s] = (a - b)·W^(p·s),  W = exp(-2πi/N).
// Layouts: src, dst [pairs][N] vec2f; twiddle [N/2] vec2f.
// Dispatch: one thread per (pair, butterfly), pairs·N/2 threads in 1-D, folded into y (grid1d).
// Bindings: 0 params {n, stage, pairs}, 1 src, 2 twiddle (read), 3 dst (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
  stage: u32,
  pairs: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec2f>;
@group(0) @binding(2) var<storage, read> twiddle: array<vec2f>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec2f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let half = params.n / 2u;
  if (i >= params.pairs * half) {
    return;
  }
  let pair = i / half;
  let t = i - pair * half;
  let s = 1u << params.stage;
  let p = t >> params.stage;
  let q = t & (s - 1u);
  let base = pair * params.n;
  let a = src[base + q + s * p];
  let b = src[base + q + s * p + half];
  let w = twiddle[p * s];
  let d = a - b;
  let o = base + q + 2u * s * p;
  dst[o] = a + b;
  dst[o + s] = vec2f(d.x * w.x - d.y * w.y, d.x * w.y + d.y * w.x);
}
