// Adam, in place (Keras' formulation, bias correction folded into the step size):
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   p = p - lr_t * m / (sqrt(v) + eps),   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
// lr_t is computed on the CPU in float64 (adamStepSize in src/ref/adam.ts), and so
// are 1 - beta1 and 1 - beta2: float32(0.999) is 0.99900001, and 1 minus it on the
// GPU would be off from 0.001 by 1e-5 relative.
//
// Layout: flat f32 arrays of length n (param, grad, m, v alike).
// Dispatch: ceil(n / WG) threads in 1-D, folded into y (grid1d).
// Bindings: 0 params {n: u32, lr_t, beta1, beta2, one_minus_beta1, one_minus_beta2, eps: f32},
//           1 grad (read), 2 param, 3 m, 4 v (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
  lr_t: f32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  let g = grad[i];
  let mi = params.beta1 * m[i] + params.one_minus_beta1 * g;
  let vi = params.beta2 * v[i] + params.one_minus_beta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] -= params.lr_t * mi / (sqrt(vi) + params.eps);
}
