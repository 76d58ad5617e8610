// batch-norm normalisation: y[r, c] = gamma[c] * (x[r, c] - mean[c]) * k[c] + beta[c]
//   training  (from_var = 0): mean and k = invstd are this batch's statistics;
//   inference (from_var = 1): mean is the running mean and k = 1 / sqrt(running_var + eps).
//
// Layout: x, y [M, C] row-major (channels-last); gamma, beta, mean, scale [C].
// Dispatch: one thread per element, ceil(M*C / WG) in 1-D, folded into y (grid1d).
// Bindings: 0 params {count, c, from_var: u32, eps: f32},
//           1 x, 2 gamma, 3 beta, 4 mean, 5 scale (invstd, or the variance when from_var = 1) (read),
//           6 y (read_write).
override WG: u32 = 256;

struct Params {
  count: u32,
  c: u32,
  from_var: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> scale: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.count) {
    return;
  }
  let ch = i % params.c;
  var k = scale[ch];
  if (params.from_var != 0u) {
    k = inverseSqrt(k + params.eps);
  }
  y[i] = gamma[ch] * (x[i] - mean[ch]) * k + beta[ch];
}
