// conv3d forward, one invocation per output element: the baseline the forward
// kernels (conv3d_forward.wgsl, conv3d_forward_tiled.wgsl) are measured against in
// bench/conv3d.bench.ts.
//   y[n, od, oh, ow, co] = b[co] + sum_{zd, zh, zw, ci} x[n, od+zd-pd, oh+zh-ph, ow+zw-pw, ci] * w[zd, zh, zw, ci, co]
//
// Layouts (row-major, channels last): x [N, D, H, W, Cin], w [kd, kh, kw, Cin, Cout],
// b [Cout], y [N, OD, OH, OW, Cout].
// Dispatch: ceil(M·Cout / WG) invocations in 1-D (M = N·OD·OH·OW), folded into y past
//           the per-dimension limit (grid1d in src/kernels/kernel.ts).
// Bindings: 0 params, 1 x (read), 2 w (read), 3 b (read; unused when has_bias = 0),
//           4 y (read_write).
override WG: u32 = 64;

struct Params {
  n: u32, d: u32, h: u32, w: u32, cin: u32,
  od: u32, oh: u32, ow: u32, cout: u32,
  kd: u32, kh: u32, kw: u32,
  pd: u32, ph: u32, pw: u32,
  m: u32, k: u32,
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.m * params.cout) {
    return;
  }
  let co = i % params.cout;
  let m = i / params.cout;
  let ow = m % params.ow;
  let oh = (m / params.ow) % params.oh;
  let od = (m / (params.ow * params.oh)) % params.od;
  let n = m / (params.ow * params.oh * params.od);
  var s = 0.0;
  if (params.has_bias != 0u) {
    s = bias[co];
  }
  for (var zd = 0u; zd < params.kd; zd++) {
    let id = i32(od + zd) - i32(params.pd);
    if (id < 0 || id >= i32(params.d)) {
      continue;
    }
    for (var zh = 0u; zh < params.kh; zh++) {
      let ih = i32(oh + zh) - i32(params.ph);
      if (ih < 0 || ih >= i32(params.h)) {
        continue;
      }
      for (var zw = 0u; zw < params.kw; zw++) {
        let iw = i32(ow + zw) - i32(params.pw);
        if (iw < 0 || iw >= i32(params.w)) {
          continue;
        }
        let xb = (((n * params.d + u32(id)) * params.h + u32(ih)) * params.w + u32(iw)) * params.cin;
        let wb = ((zd * params.kh + zh) * params.kw + zw) * params.cin * params.cout + co;
        for (var ci = 0u; ci < params.cin; ci++) {
          s += x[xb + ci] * wt[wb + ci * params.cout];
        }
      }
    }
  }
  y[i] = s;
}
