// Winograd F(2×2, 3×3), input transform: every 4×4 input patch of a 2×2 output tile,
// transformed as V = Bᵀ d B, for the conv3d kernels of 1×3×3 taps (conv3d_winograd.ts):
//        ⎡1  0 -1  0⎤
//   Bᵀ = ⎢0  1  1  0⎥     V[ξ = 4a + b] is the (a, b) element of Bᵀ d B,
//        ⎢0 -1  1  0⎥     d[r][s] = a[n, dd, 2i + r − ph, 2j + s − pw, c] (zero outside)
//        ⎣0  1  0 -1⎦
// for tile t = ((n·D + dd)·TH + i)·TW + j, four channels per invocation.
// The forward transforms x (ph, pw: the convolution's padding); backward_input
// transforms dy with the padding of the flipped kernel (2 − pad).
//
// Layout: a [N, D, H, W, C] channels-last (C % 4 == 0), bound as vec4; v [16, T_pad, C]
//         (ξ-major, so each ξ is one [T_pad, C] matrix for the GEMM; tiles past T are zero).
// Dispatch: one invocation per (tile < T_pad, channel quad), ceil(T_pad·C/4 / WG) in 1-D,
//           folded into y (grid1d).
// Bindings: 0 params, 1 a (read), 2 v (read_write).
override WG: u32 = 64;

struct Params {
  n: u32, d: u32, h: u32, w: u32, c: u32,
  th: u32, tw: u32, // tiles along H and W: ceil(OH / 2), ceil(OW / 2)
  ph: u32, pw: u32,
  t: u32, t_pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> v: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let c4s = p.c / 4u;
  let g = gid.x + gid.y * nwg.x * WG;
  if (g >= p.t_pad * c4s) {
    return;
  }
  let c4 = g % c4s;
  let t = g / c4s;
  var d: array<vec4f, 16>;
  if (t < p.t) {
    let j = t % p.tw;
    let i = (t / p.tw) % p.th;
    let nd = t / (p.tw * p.th); // n·D + dd
    for (var r = 0u; r < 4u; r++) {
      let ih = i32(2u * i + r) - i32(p.ph);
      for (var s = 0u; s < 4u; s++) {
        let iw = i32(2u * j + s) - i32(p.pw);
        let inside = ih >= 0 && iw >= 0 && ih < i32(p.h) && iw < i32(p.w);
        let e = ((nd * p.h + u32(clamp(ih, 0, i32(p.h) - 1))) * p.w + u32(clamp(iw, 0, i32(p.w) - 1))) * c4s + c4;
        d[4u * r + s] = select(vec4f(0.0), a[e], inside);
      }
    }
  } else {
    for (var k = 0u; k < 16u; k++) {
      d[k] = vec4f(0.0);
    }
  }
  // Rows: e = Bᵀ d (4×4), then columns: V = e B.
  var e: array<vec4f, 16>;
  for (var s = 0u; s < 4u; s++) {
    e[s] = d[s] - d[8u + s];
    e[4u + s] = d[4u + s] + d[8u + s];
    e[8u + s] = d[8u + s] - d[4u + s];
    e[12u + s] = d[4u + s] - d[12u + s];
  }
  let stride = p.t_pad * c4s; // vec4s per ξ
  let o = t * c4s + c4;
  for (var r = 0u; r < 4u; r++) {
    let q = 4u * r;
    v[(q + 0u) * stride + o] = e[q] - e[q + 2u];
    v[(q + 1u) * stride + o] = e[q + 1u] + e[q + 2u];
    v[(q + 2u) * stride + o] = e[q + 2u] - e[q + 1u];
    v[(q + 3u) * stride + o] = e[q + 1u] - e[q + 3u];
  }
}
