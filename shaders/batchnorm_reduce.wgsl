// batch-norm column reduction, first of two passes: per-chunk partial sums
// over the rows of x viewed as [M, C] (M = every position of a channel).
//   mode 0 (mean):      s0 = sum a,                 s1 = sum a^2
//   mode 1 (variance):  s0 = sum (a - mean),        s1 = sum (a - mean)^2
//   mode 2 (backward):  s0 = sum a,                 s1 = sum a * (x - mean) * invstd
// with a = x in modes 0 and 1 and a = dy in mode 2; each sum runs over the rows
// [chunk*rows_per_chunk, min(M, (chunk+1)*rows_per_chunk)). The second pass
// (batchnorm_forward_stats / batchnorm_backward_stats) adds the chunks of a channel.
// Mode 1 subtracts the mean of mode 0 first, so the variance does not suffer the
// cancellation of E[x^2] - E[x]^2; its s0 corrects the mean's rounding.
//
// Layout: a, x [M, C] row-major (channels-last); mean, invstd [C];
//         partial [2, chunks_total, C] (s0 block, then s1 block). A tensor too large
//         for one binding is reduced slice by slice (M rows each), each slice
//         writing its chunks from chunk_base on.
// Dispatch: (ceil(C / TC), chunks) workgroups of TC × TR threads. Thread (lx, ly)
//           takes channel wid.x*TC + lx and rows ly, ly + TR, … of the chunk, so a
//           warp reads TC consecutive channels of one row; then the TR partial sums
//           of each channel are added by a tree in workgroup memory (TR a power of two).
// Bindings: 0 params {m, c, rows_per_chunk, mode, chunk_base, chunks_total: u32}, 1 a, 2 x, 3 mean, 4 invstd (read),
//           5 partial (read_write).
override TC: u32 = 32;
override TR: u32 = 8;

struct Params {
  m: u32,
  c: u32,
  rows_per_chunk: u32,
  mode: u32,
  chunk_base: u32,
  chunks_total: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> invstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;

var<workgroup> sum0: array<f32, TC * TR>;
var<workgroup> sum1: array<f32, TC * TR>;

@compute @workgroup_size(TC, TR)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let ch = wid.x * TC + lid.x;
  let chunk = wid.y;
  let start = chunk * p.rows_per_chunk;
  let end = min(p.m, start + p.rows_per_chunk);
  var s0 = 0.0;
  var s1 = 0.0;
  if (ch < p.c) {
    if (p.mode == 2u) {
      let mu = mean[ch];
      let k = invstd[ch];
      for (var r = start + lid.y; r < end; r += TR) {
        let i = r * p.c + ch;
        let g = a[i];
        s0 += g;
        s1 += g * (x[i] - mu) * k;
      }
    } else {
      let shift = select(0.0, mean[ch], p.mode == 1u);
      for (var r = start + lid.y; r < end; r += TR) {
        let v = a[r * p.c + ch] - shift;
        s0 += v;
        s1 += v * v;
      }
    }
  }
  let slot = lid.y * TC + lid.x;
  sum0[slot] = s0;
  sum1[slot] = s1;
  workgroupBarrier();
  for (var stride = TR / 2u; stride > 0u; stride /= 2u) {
    if (lid.y < stride) {
      sum0[slot] += sum0[slot + stride * TC];
      sum1[slot] += sum1[slot + stride * TC];
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && ch < p.c) {
    let slot_chunk = p.chunk_base + chunk;
    partial[slot_chunk * p.c + ch] = sum0[lid.x];
    partial[(p.chunks_total + slot_chunk) * p.c + ch] = sum1[lid.x];
  }
}
