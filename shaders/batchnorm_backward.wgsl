// batch-norm backward for the input (training mode, batch statistics):
//   xhat = (x - mean) * invstd
//   dx[r, c] += gamma[c] * invstd[c] * (dy[r, c] - sum_dy[c] / M - xhat * sum_dy_xhat[c] / M)
// where sum_dy and sum_dy_xhat come from batchnorm_backward_stats.
//
// Layout: dy, x, dx [M, C] row-major (channels-last); mean, invstd, gamma [C]; sums [2, C].
// Dispatch: one thread per element, ceil(M*C / WG) in 1-D, folded into y (grid1d).
// Bindings: 0 params {count, c: u32, inv_m: f32}, 1 dy, 2 x, 3 mean, 4 invstd, 5 gamma,
//           6 sums (read), 7 dx (read_write).
override WG: u32 = 256;

struct Params {
  count: u32,
  c: u32,
  inv_m: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> invstd: array<f32>;
@group(0) @binding(5) var<storage, read> gamma: array<f32>;
@group(0) @binding(6) var<storage, read> sums: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.count) {
    return;
  }
  let ch = i % params.c;
  let k = invstd[ch];
  let xhat = (x[i] - mean[ch]) * k;
  let sumDy = sums[ch];
  let sumDyXhat = sums[params.c + ch];
  dx[i] += gamma[ch] * k * (dy[i] - (sumDy + xhat * sumDyXhat) * params.inv_m);
}
