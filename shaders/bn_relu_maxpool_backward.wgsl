// Backward of bn_relu_maxpool_forward (training statistics) in one pass over x:
// through the pooling, the ReLU and the batch norm at once.
//   dv[i]  = dy[o] * scale if i = argmax[o] (the window's maximum, where the ReLU was
//            open and the fused dropout kept it; scale its 1 / (1 − rate), or 1), else 0
//   dx[i] += gamma[c] * invstd[c] * (dv[i] - (sum_dy[c] + xhat[i] * sum_dy_xhat[c]) / M)
//   xhat   = (x[i] - mean[c]) * invstd[c],  M = N·D·H·W
// (with ACCUMULATE false, dx = … instead: the first writer of a gradient). sum_dy and
// sum_dy_xhat come from bn_relu_maxpool_backward_reduce and batchnorm_backward_stats.
// Unfused, the same gradient takes a zeroed full-size dv, a scatter into it, and
// batch norm's backward reading dv and x twice (batchnorm_reduce, batchnorm_backward);
// here dv is never stored: each window's elements compare their own index with the
// window's argmax.
//
// Layout: x, dx [N, D, H, W, C] channels-last; dy, argmax [N, OD, OH, OW, C] (argmax:
//         flat index into x, NONE where the ReLU was closed); mean, invstd, gamma [C];
//         sums [2, C]. Every binding is viewed as vec4s (buffers sized to a multiple
//         of 16 bytes): with VEC (C % 4 == 0) an invocation loads and stores four
//         channels at once, otherwise one by one as v[i >> 2][i & 3], skipping
//         channels past C. The window is the override constants PD, PH, PW.
// Dispatch: N·OD·OH·ceil(OW / POS) · ceil(C / 4) invocations in 1-D, folded into y
//           (grid1d), decoded as the forward's: invocation g takes channels
//           4q … 4q+3 (q = g mod ceil(C / 4)) of POS consecutive windows along W.
//           Elements in no window (floor pooling leaves the last D mod PD, H mod PH
//           and W mod PW of each axis out) belong to the invocation of the last
//           window along their axis, with dv = 0.
// Bindings: 0 params, 1 dy, 2 argmax, 3 x, 4 mean, 5 invstd, 6 gamma, 7 sums (read),
//           8 dx (read_write).
override WG: u32 = 64;
override POS: u32 = 4;
override VEC: bool = false;
override ACCUMULATE: bool = true;
override PD: u32 = 1;
override PH: u32 = 2;
override PW: u32 = 2;

const NONE: u32 = 0xffffffffu;

struct Params {
  n: u32,
  d: u32,
  h: u32,
  w: u32,
  c: u32,
  od: u32,
  oh: u32,
  ow: u32,
  inv_m: f32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read> argmax: array<vec4u>;
@group(0) @binding(3) var<storage, read> x: array<vec4f>;
@group(0) @binding(4) var<storage, read> mean: array<vec4f>;
@group(0) @binding(5) var<storage, read> invstd: array<vec4f>;
@group(0) @binding(6) var<storage, read> gamma: array<vec4f>;
@group(0) @binding(7) var<storage, read> sums: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> dx: array<vec4f>;

// x4, block_of: shared with the forward
// #include bn_relu_maxpool_common.wgsl

// Elements i … i+3 of dy and argmax; with n of them valid (the scalar path), the rest read element i.
fn dy4(i: u32, n: u32) -> vec4f {
  if (VEC) {
    return dy[i >> 2u];
  }
  var v: vec4f;
  for (var j = 0u; j < 4u; j++) {
    let e = i + select(0u, j, j < n);
    v[j] = dy[e >> 2u][e & 3u];
  }
  return v;
}

fn argmax4(i: u32, n: u32) -> vec4u {
  if (VEC) {
    return argmax[i >> 2u];
  }
  var v: vec4u;
  for (var j = 0u; j < 4u; j++) {
    let e = i + select(0u, j, j < n);
    v[j] = argmax[e >> 2u][e & 3u];
  }
  return v;
}

// Channels c … c+3: mean, invstd, gamma · invstd and the two sums. Channels past C
// (scalar path) repeat channel C − 1 and are never stored.
struct Coef {
  mu: vec4f,
  k: vec4f,
  gk: vec4f,
  sum_dy: vec4f,
  sum_dy_xhat: vec4f,
}

fn coef(c: u32) -> Coef {
  var q: Coef;
  if (VEC) {
    q.mu = mean[c >> 2u];
    q.k = invstd[c >> 2u];
    q.gk = gamma[c >> 2u] * q.k;
    q.sum_dy = sums[c >> 2u];
    q.sum_dy_xhat = sums[(params.c + c) >> 2u];
  } else {
    for (var j = 0u; j < 4u; j++) {
      let e = min(c + j, params.c - 1u);
      let e1 = params.c + e;
      q.mu[j] = mean[e >> 2u][e & 3u];
      q.k[j] = invstd[e >> 2u][e & 3u];
      q.gk[j] = gamma[e >> 2u][e & 3u] * q.k[j];
      q.sum_dy[j] = sums[e >> 2u][e & 3u];
      q.sum_dy_xhat[j] = sums[e1 >> 2u][e1 & 3u];
    }
  }
  return q;
}

// dx at elements i … i+3 (n valid) from their routed gradient dv: batchnorm_backward's expression.
fn store_dx(i: u32, n: u32, q: Coef, dv: vec4f) {
  let xhat = (x4(i, n) - q.mu) * q.k;
  let v = q.gk * (dv - (q.sum_dy + xhat * q.sum_dy_xhat) * params.inv_m);
  if (VEC) {
    if (ACCUMULATE) {
      dx[i >> 2u] += v;
    } else {
      dx[i >> 2u] = v;
    }
  } else {
    for (var j = 0u; j < n; j++) {
      let e = i + j;
      if (ACCUMULATE) {
        dx[e >> 2u][e & 3u] += v[j];
      } else {
        dx[e >> 2u][e & 3u] = v[j];
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let b = block_of(gid.x + gid.y * nwg.x * WG);
  if (!b.inside) {
    return;
  }
  let n = b.n;
  let od = b.od;
  let oh = b.oh;
  let ow0 = b.ow0;
  let c = b.c;
  let valid = b.valid; // channels of this invocation
  let o0 = b.o0;

  let q = coef(c);
  let lane = vec4u(0u, 1u, 2u, 3u);
  // The last window along an axis also takes the elements past the last whole window.
  let dEnd = select(od * PD + PD, p.d, od + 1u == p.od);
  let hEnd = select(oh * PH + PH, p.h, oh + 1u == p.oh);
  for (var t = 0u; t < POS; t++) {
    let ow = ow0 + t;
    if (ow < p.ow) {
      let o = o0 + t * p.c;
      let gy = dy4(o, valid) * p.scale;
      let at = argmax4(o, valid);
      for (var i = 0u; i < PD; i++) {
        for (var j = 0u; j < PH; j++) {
          let row = ((n * p.d + od * PD + i) * p.h + oh * PH + j) * p.w + ow * PW;
          for (var k = 0u; k < PW; k++) {
            let idx = (row + k) * p.c + c;
            store_dx(idx, valid, q, select(vec4f(0.0), gy, at == vec4u(idx) + lane));
          }
        }
      }
      let wEnd = select(ow * PW + PW, p.w, ow + 1u == p.ow);
      if (dEnd > od * PD + PD || hEnd > oh * PH + PH || wEnd > ow * PW + PW) {
        for (var dd = od * PD; dd < dEnd; dd++) {
          for (var hh = oh * PH; hh < hEnd; hh++) {
            for (var ww = ow * PW; ww < wEnd; ww++) {
              if (dd >= od * PD + PD || hh >= oh * PH + PH || ww >= ow * PW + PW) {
                store_dx((((n * p.d + dd) * p.h + hh) * p.w + ww) * p.c + c, valid, q, vec4f(0.0));
              }
            }
          }
        }
      }
    }
  }
}
