// batch-norm column reduction, first of two passes: per-chunk partial sums
// over the rows of x viewed as [M, C] (M = every position of a channel).
//   mode 1 (statistics): s0 = sum (a - mean),        s1 = sum (a - mean)^2
//   mode 2 (backward):   s0 = sum a,                 s1 = sum a * (x - mean) * invstd
// with a = x in mode 1 and a = dy in mode 2; each sum runs over the rows
// [chunk*rows_per_chunk, min(M, (chunk+1)*rows_per_chunk)). The second pass
// (batchnorm_forward_stats / batchnorm_backward_stats) adds the chunks of a channel.
// In mode 1 `mean` holds a shift, x's first row (src/kernels/batchnorm.ts): sums
// about a value of the data keep the variance s1/M - (s0/M)^2 clear of the
// cancellation of E[x^2] - E[x]^2 in one pass over x.
//
// Layout: a, x [M, C] row-major (channels-last); mean, invstd [C];
//         partial [2, chunks_total, C] (s0 block, then s1 block). A tensor too large
//         for one binding is reduced slice by slice (M rows each), each slice
//         writing its chunks from chunk_base on. Every binding is viewed as vec4s
//         (buffers sized to a multiple of 16 bytes): with VEC (C % 4 == 0) an
//         invocation loads four channels at once, otherwise one by one as
//         v[i >> 2][i & 3], skipping channels past C.
// Dispatch: chunks · ceil(C / 4) invocations in 1-D, folded into y (grid1d).
//           Invocation g sums channels 4q … 4q+3 (q = g mod ceil(C / 4)) of chunk
//           g / ceil(C / 4) on its own, row after row: each invocation streams
//           through consecutive memory (rows chunks apart instead defeat a CPU's
//           prefetcher), and there is no workgroup memory and no barrier, which on
//           lavapipe switches threads once per invocation (docs/PERFORMANCE.md).
// Bindings: 0 params {m, c, chunks, rows_per_chunk, mode, chunk_base, chunks_total: u32},
//           1 a, 2 x, 3 mean, 4 invstd (read), 5 partial (read_write).
override WG: u32 = 64;
override VEC: bool = false;

struct Params {
  m: u32,
  c: u32,
  chunks: u32,
  rows_per_chunk: u32,
  mode: u32,
  chunk_base: u32,
  chunks_total: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> x: array<vec4f>;
@group(0) @binding(3) var<storage, read> mean: array<vec4f>;
@group(0) @binding(4) var<storage, read> invstd: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> partial: array<vec4f>;

// Channels c … c+3 of row r of a (or of x); those past C read channel C-1.
fn row4(r: u32, c: u32, from_x: bool) -> vec4f {
  if (VEC) {
    let i = (r * params.c + c) >> 2u;
    if (from_x) {
      return x[i];
    }
    return a[i];
  }
  var v: vec4f;
  for (var j = 0u; j < 4u; j++) {
    let e = r * params.c + min(c + j, params.c - 1u);
    if (from_x) {
      v[j] = x[e >> 2u][e & 3u];
    } else {
      v[j] = a[e >> 2u][e & 3u];
    }
  }
  return v;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let quads = (p.c + 3u) / 4u;
  let g = gid.x + gid.y * nwg.x * WG;
  if (g >= p.chunks * quads) {
    return;
  }
  let c = (g % quads) * 4u;
  let chunk = g / quads;
  var mu: vec4f;
  var k: vec4f;
  if (VEC) {
    mu = mean[c >> 2u];
    k = invstd[c >> 2u];
  } else {
    for (var j = 0u; j < 4u; j++) {
      let e = min(c + j, p.c - 1u);
      mu[j] = mean[e >> 2u][e & 3u];
      k[j] = invstd[e >> 2u][e & 3u];
    }
  }
  let start = chunk * p.rows_per_chunk;
  let end = min(p.m, start + p.rows_per_chunk);
  var s0 = vec4f(0.0);
  var s1 = vec4f(0.0);
  if (p.mode == 2u) {
    for (var r = start; r < end; r++) {
      let d = row4(r, c, false);
      s0 += d;
      s1 += d * (row4(r, c, true) - mu) * k;
    }
  } else {
    for (var r = start; r < end; r++) {
      let v = row4(r, c, false) - mu;
      s0 += v;
      s1 += v * v;
    }
  }
  let o0 = (p.chunk_base + chunk) * p.c + c;
  let o1 = o0 + p.chunks_total * p.c;
  if (VEC) {
    partial[o0 >> 2u] = s0;
    partial[o1 >> 2u] = s1;
  } else {
    for (var j = 0u; j < 4u; j++) {
      if (c + j < p.c) {
        partial[(o0 + j) >> 2u][(o0 + j) & 3u] = s0[j];
        partial[(o1 + j) >> 2u][(o1 + j) & 3u] = s1[j];
      }
    }
  }
}
