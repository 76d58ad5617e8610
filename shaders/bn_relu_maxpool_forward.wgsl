// batch norm → ReLU → max pooling (window = stride, floor) in one pass, the tail
// of each of the report's conv blocks. Unfused, the block writes and rereads two
// full-size intermediates (the normalised and the rectified activation); here x
// is read once and only the pooled output and its argmax are written.
//   v(i)    = gamma[c] * (x[i] - mean[c]) * k[c] + beta[c],  k = scale or 1/sqrt(scale + eps)
//   y[o]    = max(0, max over the window of v)
//   argmax  = flat index into x of the window's first maximum of v (scanning d, h, w)
// ReLU is monotone, so pooling before rectifying picks the same value and, where
// it is positive, the same element as pooling the rectified activation;
// backward (bn_relu_maxpool_backward) routes dy to argmax only where y > 0.
//
// Layout: x [N, D, H, W, C] channels-last; y, argmax [N, OD, OH, OW, C];
//         gamma, beta, mean, scale [C] (scale: invstd in training, the running
//         variance in inference, from_var = 1).
// Dispatch: one invocation per output element, ceil(count / WG) workgroups in
//           1-D, folded into y (grid1d).
// Bindings: 0 params, 1 x, 2 gamma, 3 beta, 4 mean, 5 scale (read), 6 y, 7 argmax (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
  d: u32,
  h: u32,
  w: u32,
  c: u32,
  pd: u32,
  ph: u32,
  pw: u32,
  od: u32,
  oh: u32,
  ow: u32,
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
@group(0) @binding(7) var<storage, read_write> argmax: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let o = gid.x + gid.y * nwg.x * WG;
  if (o >= p.n * p.od * p.oh * p.ow * p.c) {
    return;
  }
  let c = o % p.c;
  var rest = o / p.c;
  let ow = rest % p.ow;
  rest /= p.ow;
  let oh = rest % p.oh;
  rest /= p.oh;
  let od = rest % p.od;
  let n = rest / p.od;

  var k = scale[c];
  if (p.from_var != 0u) {
    k = inverseSqrt(k + p.eps);
  }
  // The same expression as batchnorm_forward, so fused and unfused blocks agree bit for bit.
  let g = gamma[c];
  let mu = mean[c];
  let bt = beta[c];

  var bestIdx = (((n * p.d + od * p.pd) * p.h + oh * p.ph) * p.w + ow * p.pw) * p.c + c;
  var best = g * (x[bestIdx] - mu) * k + bt;
  for (var i = 0u; i < p.pd; i++) {
    for (var j = 0u; j < p.ph; j++) {
      let row = ((n * p.d + od * p.pd + i) * p.h + oh * p.ph + j) * p.w + ow * p.pw;
      for (var q = 0u; q < p.pw; q++) {
        let idx = (row + q) * p.c + c;
        let v = g * (x[idx] - mu) * k + bt;
        if (v > best) {
          best = v;
          bestIdx = idx;
        }
      }
    }
  }
  y[o] = max(best, 0.0);
  argmax[o] = bestIdx;
}
