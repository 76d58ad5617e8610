// The batch-norm sums of bn_relu_maxpool's backward, first of two passes, over the
// pooled elements: the gradient at the batch norm's output (dv) is dy[o] at argmax[o]
// where the ReLU was open and zero everywhere else, so its column sums need only the
// pooled elements, not a full-size dv:
//   s0 = sum over open o of g[o]                       (= sum dv)
//   s1 = sum over open o of g[o] * xhat[argmax[o]]     (= sum dv * xhat)
//   g  = dy * scale (scale: the fused dropout's 1 / (1 − rate), or 1)
//   xhat = (x - mean) * invstd
// per chunk of rows [chunk*rows_per_chunk, min(M, (chunk+1)*rows_per_chunk)) of the
// pooled elements viewed as [M, C]; batchnorm_backward_stats adds the chunks of a
// channel, exactly as after batchnorm_reduce's backward mode.
//
// Layout: dy, argmax [M, C] (argmax: flat index into x, NONE where the ReLU was
//         closed); x the forward's input; mean, invstd [C]; partial [2, chunks_total, C]
//         (s0 block, then s1 block), this call's chunks from chunk_base on. Every
//         binding is viewed as vec4s (buffers sized to a multiple of 16 bytes): with
//         VEC (C % 4 == 0) an invocation loads dy and argmax four channels at once,
//         otherwise one by one as v[i >> 2][i & 3], skipping channels past C; x is
//         gathered element by element.
// Dispatch: chunks · ceil(C / 4) invocations in 1-D, folded into y (grid1d), as
//           batchnorm_reduce: invocation g sums channels 4q … 4q+3 (q = g mod
//           ceil(C / 4)) of chunk g / ceil(C / 4), row after row.
// Bindings: 0 params {m, c, chunks, rows_per_chunk, chunk_base, chunks_total: u32, scale: f32},
//           1 dy, 2 argmax, 3 x, 4 mean, 5 invstd (read), 6 partial (read_write).
override WG: u32 = 64;
override VEC: bool = false;

const NONE: u32 = 0xffffffffu;

struct Params {
  m: u32,
  c: u32,
  chunks: u32,
  rows_per_chunk: u32,
  chunk_base: u32,
  chunks_total: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read> argmax: array<vec4u>;
@group(0) @binding(3) var<storage, read> x: array<vec4f>;
@group(0) @binding(4) var<storage, read> mean: array<vec4f>;
@group(0) @binding(5) var<storage, read> invstd: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> partial: array<vec4f>;

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
  // Channels past C (scalar path) repeat channel C − 1 and are never stored.
  var mu: vec4f;
  var k: vec4f;
  for (var j = 0u; j < 4u; j++) {
    let e = min(c + j, p.c - 1u);
    mu[j] = mean[e >> 2u][e & 3u];
    k[j] = invstd[e >> 2u][e & 3u];
  }
  let start = chunk * p.rows_per_chunk;
  let end = min(p.m, start + p.rows_per_chunk);
  var s0 = vec4f(0.0);
  var s1 = vec4f(0.0);
  for (var r = start; r < end; r++) {
    var gy: vec4f;
    var at: vec4u;
    if (VEC) {
      let i = (r * p.c + c) >> 2u;
      gy = dy[i];
      at = argmax[i];
    } else {
      for (var j = 0u; j < 4u; j++) {
        let e = r * p.c + min(c + j, p.c - 1u);
        gy[j] = dy[e >> 2u][e & 3u];
        at[j] = argmax[e >> 2u][e & 3u];
      }
    }
    gy *= p.scale;
    let open = at != vec4u(NONE);
    var xv: vec4f;
    for (var j = 0u; j < 4u; j++) {
      let e = select(0u, at[j], open[j]);
      xv[j] = x[e >> 2u][e & 3u];
    }
    s0 += select(vec4f(0.0), gy, open);
    s1 += select(vec4f(0.0), gy * (xv - mu) * k, open);
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
