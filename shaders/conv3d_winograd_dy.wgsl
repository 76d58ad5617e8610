// Winograd F(m×m, 3×3) for backward_weight, m = TILE (2 or 4): each m×m tile of the
// output gradient dy lifted to the α×α transform domain (α = m + 2), Ŷ = A dy Aᵀ. The
// forward's output is Y = Aᵀ M A, so Ŷ is d(loss)/dM, and the kernel's gradient is
// dU_ξ = Σ_tiles V_ξ ⊙ Ŷ_ξ (the GEMMs of conv3d_winograd.ts), taken back by
// conv3d_winograd_dw.wgsl. A (α×m) is applied to dy's columns, then to the rows of the
// result (fn a_dy):
//   m = 2:  A = ⎡1  0⎤      m = 4:  A = ⎡1  0 0  0⎤
//               ⎢1  1⎥                  ⎢1  1 1  1⎥
//               ⎢1 -1⎥                  ⎢1 -1 1 -1⎥
//               ⎣0 -1⎦                  ⎢1  2 4  8⎥
//                                       ⎢1 -2 4 -8⎥
//                                       ⎣0  0 0  1⎦
// A's second row sums the tile, so Ŷ[ξ = α + 1] summed over tiles is db.
// dy[r][s] = dy[n, dd, m·i + r, m·j + s, c], zero past OH or OW, for tile
// t = ((n·D + dd)·TH + i)·TW + j, four channels per invocation.
//
// Layout: dy [N, OD, OH, OW, C] channels-last (C % 4 == 0), bound as vec4; g [α², T_pad, C]
//         (ξ-major as conv3d_winograd_input.wgsl; tiles past T are zero).
// Dispatch: one invocation per (tile < T_pad, channel quad), ceil(T_pad·C/4 / WG) in 1-D,
//           folded into y (grid1d).
// Bindings: 0 params, 1 dy (read), 2 g (read_write).
override WG: u32 = 64;
override TILE: u32 = 2; // m: outputs per tile side, 2 or 4

struct Params {
  oh: u32, ow: u32, c: u32,
  th: u32, tw: u32,
  t: u32, t_pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> g: array<vec4f>;

/** A times one column (or row) of m values: α values; entries past m are unused. */
fn a_dy(d: array<vec4f, 4>) -> array<vec4f, 6> {
  if (TILE == 2u) {
    return array<vec4f, 6>(d[0], d[0] + d[1], d[0] - d[1], -d[1], vec4f(0.0), vec4f(0.0));
  }
  let even = d[0] + 4.0 * d[2];
  let odd = d[1] + 4.0 * d[3];
  return array<vec4f, 6>(d[0], d[0] + d[1] + d[2] + d[3], d[0] - d[1] + d[2] - d[3], even + 2.0 * odd, even - 2.0 * odd, d[3]);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let alpha = TILE + 2u;
  let c4s = p.c / 4u;
  let gi = gid.x + gid.y * nwg.x * WG;
  if (gi >= p.t_pad * c4s) {
    return;
  }
  let c4 = gi % c4s;
  let t = gi / c4s;
  var d: array<vec4f, 16>; // zero: outputs past OH or OW, and tiles past T
  if (t < p.t) {
    let j = t % p.tw;
    let i = (t / p.tw) % p.th;
    let nd = t / (p.tw * p.th);
    for (var r = 0u; r < TILE; r++) {
      let oh = TILE * i + r;
      for (var s = 0u; s < TILE; s++) {
        let ow = TILE * j + s;
        let inside = oh < p.oh && ow < p.ow;
        let e = ((nd * p.oh + min(oh, p.oh - 1u)) * p.ow + min(ow, p.ow - 1u)) * c4s + c4;
        d[TILE * r + s] = select(vec4f(0.0), dy[e], inside);
      }
    }
  }
  // Columns: e = A dy (α×m), then rows: Ŷ = e Aᵀ (α×α).
  var e: array<vec4f, 24>;
  for (var s = 0u; s < TILE; s++) {
    var col: array<vec4f, 4>;
    for (var r = 0u; r < TILE; r++) {
      col[r] = d[TILE * r + s];
    }
    let z = a_dy(col);
    for (var r = 0u; r < alpha; r++) {
      e[TILE * r + s] = z[r];
    }
  }
  let stride = p.t_pad * c4s; // vec4s per ξ
  let o = t * c4s + c4;
  for (var r = 0u; r < alpha; r++) {
    var row: array<vec4f, 4>;
    for (var s = 0u; s < TILE; s++) {
      row[s] = e[TILE * r + s];
    }
    let z = a_dy(row);
    for (var s = 0u; s < alpha; s++) {
      g[(alpha * r + s) * stride + o] = z[s];
    }
  }
}
