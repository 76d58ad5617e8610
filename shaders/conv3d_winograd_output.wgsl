// Winograd F(2×2, 3×3), output transform: each tile's 4×4 products m (the GEMMs of
// conv3d_winograd.ts) back to its 2×2 outputs, Y = Aᵀ m A:
//   Aᵀ = ⎡1 1  1  0⎤
//        ⎣0 1 -1 -1⎦
//   ACCUMULATE = false (forward):         y[n, dd, 2i + a, 2j + b, c]  = Y[a][b] + bias[c]
//   ACCUMULATE = true (backward_input):   dx[…] += Y[a][b]
// Outputs past OH or OW (the last tile of an odd size) are not written.
//
// Layout: m [16, T_pad, C] (ξ-major, as conv3d_winograd_input.wgsl); y [N, D, OH, OW, C]
//         channels-last, C % 4 == 0, bound as vec4; bias [C] (read only when has_bias = 1).
// Dispatch: one invocation per (tile < T, channel quad), ceil(T·C/4 / WG) in 1-D, folded
//           into y (grid1d).
// Bindings: 0 params, 1 m (read), 2 bias (read), 3 y (read_write).
override WG: u32 = 64;
override ACCUMULATE: bool = false;

struct Params {
  oh: u32, ow: u32, c: u32,
  th: u32, tw: u32,
  t: u32, t_pad: u32,
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> m: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let c4s = p.c / 4u;
  let g = gid.x + gid.y * nwg.x * WG;
  if (g >= p.t * c4s) {
    return;
  }
  let c4 = g % c4s;
  let t = g / c4s;
  let stride = p.t_pad * c4s;
  var q: array<vec4f, 16>;
  for (var k = 0u; k < 16u; k++) {
    q[k] = m[k * stride + g];
  }
  // Rows: e = Aᵀ q (2×4), then columns: Y = e A (2×2).
  var e: array<vec4f, 8>;
  for (var s = 0u; s < 4u; s++) {
    e[s] = q[s] + q[4u + s] + q[8u + s];
    e[4u + s] = q[4u + s] - q[8u + s] - q[12u + s];
  }
  var b = vec4f(0.0);
  if (p.has_bias != 0u) {
    b = bias[c4];
  }
  let j = t % p.tw;
  let i = (t / p.tw) % p.th;
  let nd = t / (p.tw * p.th);
  for (var a = 0u; a < 2u; a++) {
    let oh = 2u * i + a;
    if (oh >= p.oh) {
      continue;
    }
    let r = 4u * a;
    let row = array<vec4f, 2>(e[r] + e[r + 1u] + e[r + 2u], e[r + 1u] - e[r + 2u] - e[r + 3u]);
    for (var bb = 0u; bb < 2u; bb++) {
      let ow = 2u * j + bb;
      if (ow >= p.ow) {
        continue;
      }
      let o = ((nd * p.oh + oh) * p.ow + ow) * c4s + c4;
      if (ACCUMULATE) {
        y[o] += row[bb];
      } else {
        y[o] = row[bb] + b;
      }
    }
  }
}
