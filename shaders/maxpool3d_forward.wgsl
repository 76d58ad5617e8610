// 3-D max pooling forward, window = stride = (pd, ph, pw), no padding, floor:
//   OD = floor(D / pd), OH = floor(H / ph), OW = floor(W / pw)
//   y[n, od, oh, ow, c]      = max over the window of x[n, od*pd + i, oh*ph + j, ow*pw + k, c]
//   argmax[n, od, oh, ow, c] = flat index into x of that maximum (the first one on ties,
//                              scanning d, then h, then w), saved for the backward pass.
// The remainder rows/columns past the last full window are dropped (Keras "valid").
//
// Layout: x [N, D, H, W, C], y and argmax [N, OD, OH, OW, C], channels-last.
// Dispatch: one thread per output element, ceil(N*OD*OH*OW*C / WG) in 1-D, folded
//           into y (grid1d); neighbouring threads take neighbouring channels, so
//           the reads of one window position are contiguous.
// Bindings: 0 params {n, d, h, w, c, pd, ph, pw, od, oh, ow: u32},
//           1 x (read), 2 y (read_write), 3 argmax (read_write, u32).
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
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<u32>;

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

  // Start from the window's first element; strict > then keeps the first maximum.
  var bestIdx = (((n * p.d + od * p.pd) * p.h + oh * p.ph) * p.w + ow * p.pw) * p.c + c;
  var best = x[bestIdx];
  for (var i = 0u; i < p.pd; i++) {
    for (var j = 0u; j < p.ph; j++) {
      let row = ((n * p.d + od * p.pd + i) * p.h + oh * p.ph + j) * p.w + ow * p.pw;
      for (var k = 0u; k < p.pw; k++) {
        let idx = (row + k) * p.c + c;
        let v = x[idx];
        if (v > best) {
          best = v;
          bestIdx = idx;
        }
      }
    }
  }
  y[o] = best;
  argmax[o] = bestIdx;
}
