// Winograd F(m×m, 3×3), input transform, m = TILE (2 or 4): every α×α input patch
// (α = m + 2) of an m×m output tile, transformed as V = Bᵀ d B, for the conv3d kernels
// of 1×3×3 taps (conv3d_winograd.ts). Bᵀ (α×α) is applied to d's columns, then to the
// rows of the result (fn bt):
//   m = 2:  Bᵀ = ⎡1  0 -1  0⎤      m = 4:  Bᵀ = ⎡4  0 -5  0  1  0⎤
//                ⎢0  1  1  0⎥                   ⎢0 -4 -4  1  1  0⎥
//                ⎢0 -1  1  0⎥                   ⎢0  4 -4 -1  1  0⎥
//                ⎣0  1  0 -1⎦                   ⎢0 -2 -1  2  1  0⎥
//                                               ⎢0  2 -1 -2  1  0⎥
//                                               ⎣0  4  0 -5  0  1⎦
// V[ξ = α·a + b] is the (a, b) element of Bᵀ d B, d[r][s] = a[n, dd, m·i + r − ph,
// m·j + s − pw, c] (zero outside), for tile t = ((n·D + dd)·TH + i)·TW + j, four
// channels per invocation. The forward transforms x (ph, pw: the convolution's
// padding); backward_input transforms dy with the padding of the flipped kernel (2 − pad).
//
// Layout: a [N, D, H, W, C] channels-last (C % 4 == 0), bound as vec4; v [α², T_pad, C]
//         (ξ-major, so each ξ is one [T_pad, C] matrix for the GEMM; tiles past T are zero).
// Dispatch: one invocation per (tile < T_pad, channel quad), ceil(T_pad·C/4 / WG) in 1-D,
//           folded into y (grid1d).
// Bindings: 0 params, 1 a (read), 2 v (read_write).
override WG: u32 = 64;
override TILE: u32 = 2; // m: outputs per tile side, 2 or 4

struct Params {
  n: u32, d: u32, h: u32, w: u32, c: u32,
  th: u32, tw: u32, // tiles along H and W: ceil(OH / m), ceil(OW / m)
  ph: u32, pw: u32,
  t: u32, t_pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> v: array<vec4f>;

/** Bᵀ times one column (or row) of α values; entries past α are unused. */
fn bt(d: array<vec4f, 6>) -> array<vec4f, 6> {
  if (TILE == 2u) {
    return array<vec4f, 6>(d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3], vec4f(0.0), vec4f(0.0));
  }
  return array<vec4f, 6>(
    4.0 * d[0] - 5.0 * d[2] + d[4],
    d[3] + d[4] - 4.0 * (d[1] + d[2]),
    4.0 * (d[1] - d[2]) + d[4] - d[3],
    2.0 * (d[3] - d[1]) + d[4] - d[2],
    2.0 * (d[1] - d[3]) + d[4] - d[2],
    4.0 * d[1] - 5.0 * d[3] + d[5],
  );
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let alpha = TILE + 2u;
  let c4s = p.c / 4u;
  let g = gid.x + gid.y * nwg.x * WG;
  if (g >= p.t_pad * c4s) {
    return;
  }
  let c4 = g % c4s;
  let t = g / c4s;
  var d: array<vec4f, 36>; // zero: tiles past T transform to zero
  if (t < p.t) {
    let j = t % p.tw;
    let i = (t / p.tw) % p.th;
    let nd = t / (p.tw * p.th); // n·D + dd
    for (var r = 0u; r < alpha; r++) {
      let ih = i32(TILE * i + r) - i32(p.ph);
      for (var s = 0u; s < alpha; s++) {
        let iw = i32(TILE * j + s) - i32(p.pw);
        let inside = ih >= 0 && iw >= 0 && ih < i32(p.h) && iw < i32(p.w);
        let e = ((nd * p.h + u32(clamp(ih, 0, i32(p.h) - 1))) * p.w + u32(clamp(iw, 0, i32(p.w) - 1))) * c4s + c4;
        d[alpha * r + s] = select(vec4f(0.0), a[e], inside);
      }
    }
  }
  // Columns: e = Bᵀ d, then rows: V = e B.
  var e: array<vec4f, 36>;
  for (var s = 0u; s < alpha; s++) {
    var col: array<vec4f, 6>;
    for (var r = 0u; r < alpha; r++) {
      col[r] = d[alpha * r + s];
    }
    let y = bt(col);
    for (var r = 0u; r < alpha; r++) {
      e[alpha * r + s] = y[r];
    }
  }
  let stride = p.t_pad * c4s; // vec4s per ξ
  let o = t * c4s + c4;
  for (var r = 0u; r < alpha; r++) {
    var row: array<vec4f, 6>;
    for (var s = 0u; s < alpha; s++) {
      row[s] = e[alpha * r + s];
    }
    let y = bt(row);
    for (var s = 0u; s < alpha; s++) {
      v[(alpha * r + s) * stride + o] = y[s];
    }
  }
}
