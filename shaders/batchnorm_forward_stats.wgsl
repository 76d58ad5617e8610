// batch-norm training statistics, second pass: adds the per-chunk partial sums of
// batchnorm_reduce (mode 1, taken about the shift K that `mean` holds) for each channel:
//   d = sum s0 / M, mean = K + d,
//   var = sum s1 / M - d^2 (biased, as Keras' moments), invstd = 1 / sqrt(var + eps),
//   running_mean = momentum * running_mean + (1 - momentum) * mean,
//   running_var  = momentum * running_var  + (1 - momentum) * var
//
// Layout: partial [2, chunks, C]; mean, invstd, running_mean, running_var [C]. Every
// binding is viewed as vec4s (buffers sized to a multiple of 16 bytes): with VEC
// (C % 4 == 0) an invocation loads and stores four channels at once, otherwise one
// by one as v[i >> 2][i & 3], skipping channels past C.
// Dispatch: one invocation per 4 channels, ceil(C / (4 WG)) workgroups.
// Bindings: 0 params {c, chunks: u32, inv_m, eps, momentum: f32}, 1 partial (read),
//           2 mean, 3 invstd, 4 running_mean, 5 running_var (read_write).
override WG: u32 = 64;
override VEC: bool = false;

struct Params {
  c: u32,
  chunks: u32,
  inv_m: f32,
  eps: f32,
  momentum: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> mean: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> invstd: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> running_mean: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> running_var: array<vec4f>;

// partial4, sum_partials: shared with the other statistics shader
// #include batchnorm_partials.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let p = params;
  let c = gid.x * 4u;
  if (c >= p.c) {
    return;
  }
  let n = min(4u, p.c - c); // channels of this invocation
  let totals = sum_partials(c, n);
  let s0 = totals[0];
  let s1 = totals[1];
  var mu: vec4f;
  var rm: vec4f;
  var rv: vec4f;
  if (VEC) {
    mu = mean[c >> 2u];
    rm = running_mean[c >> 2u];
    rv = running_var[c >> 2u];
  } else {
    for (var j = 0u; j < n; j++) {
      let e = c + j;
      mu[j] = mean[e >> 2u][e & 3u];
      rm[j] = running_mean[e >> 2u][e & 3u];
      rv[j] = running_var[e >> 2u][e & 3u];
    }
  }
  let d = s0 * p.inv_m;
  let variance = max(s1 * p.inv_m - d * d, vec4f(0.0));
  mu += d;
  let is = inverseSqrt(variance + p.eps);
  rm = p.momentum * rm + (1.0 - p.momentum) * mu;
  rv = p.momentum * rv + (1.0 - p.momentum) * variance;
  if (VEC) {
    mean[c >> 2u] = mu;
    invstd[c >> 2u] = is;
    running_mean[c >> 2u] = rm;
    running_var[c >> 2u] = rv;
  } else {
    for (var j = 0u; j < n; j++) {
      let e = c + j;
      mean[e >> 2u][e & 3u] = mu[j];
      invstd[e >> 2u][e & 3u] = is[j];
      running_mean[e >> 2u][e & 3u] = rm[j];
      running_var[e >> 2u][e & 3u] = rv[j];
    }
  }
}
