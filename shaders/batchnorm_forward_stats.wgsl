// batch-norm training statistics, second pass: adds the per-chunk partial sums of
// batchnorm_reduce for each channel.
//   mode 0: mean = sum s0 / M
//   mode 1: d = sum s0 / M (the residual mean of x - mean, ~0), mean += d,
//           var = sum s1 / M - d^2 (biased, as Keras' moments), invstd = 1 / sqrt(var + eps),
//           running_mean = momentum * running_mean + (1 - momentum) * mean,
//           running_var  = momentum * running_var  + (1 - momentum) * var
//
// Layout: partial [2, chunks, C]; mean, invstd, running_mean, running_var [C].
// Dispatch: one thread per channel, ceil(C / WG) workgroups.
// Bindings: 0 params {c, chunks, mode: u32, inv_m, eps, momentum: f32}, 1 partial (read),
//           2 mean, 3 invstd, 4 running_mean, 5 running_var (read_write).
override WG: u32 = 64;

struct Params {
  c: u32,
  chunks: u32,
  mode: u32,
  inv_m: f32,
  eps: f32,
  momentum: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> invstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_var: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let p = params;
  let ch = gid.x;
  if (ch >= p.c) {
    return;
  }
  var s0 = 0.0;
  var s1 = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    s0 += partial[k * p.c + ch];
    s1 += partial[(p.chunks + k) * p.c + ch];
  }
  if (p.mode == 0u) {
    mean[ch] = s0 * p.inv_m;
    return;
  }
  let d = s0 * p.inv_m;
  let mu = mean[ch] + d;
  let variance = max(s1 * p.inv_m - d * d, 0.0);
  mean[ch] = mu;
  invstd[ch] = inverseSqrt(variance + p.eps);
  running_mean[ch] = p.momentum * running_mean[ch] + (1.0 - p.momentum) * mu;
  running_var[ch] = p.momentum * running_var[ch] + (1.0 - p.momentum) * variance;
}
