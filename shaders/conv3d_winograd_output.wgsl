// Winograd F(m×m, 3×3), output transform, m = TILE (2 or 4): each tile's α×α products
// (α = m + 2; the GEMMs of conv3d_winograd.ts) back to its m×m outputs, Y = Aᵀ M A, Aᵀ
// (m×α) applied to M's columns, then to the rows of the result (fn at):
//   m = 2:  Aᵀ = ⎡1 1  1  0⎤      m = 4:  Aᵀ = ⎡1 1  1 1  1 0⎤
//                ⎣0 1 -1 -1⎦                   ⎢0 1 -1 2 -2 0⎥
//                                              ⎢0 1  1 4  4 0⎥
//                                              ⎣0 1 -1 8 -8 1⎦
//   ACCUMULATE = false (forward):         y[n, dd, m·i + a, m·j + b, c]  = Y[a][b] + bias[c]
//   ACCUMULATE = true (backward_input):   dx[…] += Y[a][b]
// Outputs past OH or OW (the last tile of a size that is not a multiple of m) are not written.
//
// Layout: m [α², T_pad, C] (ξ-major, as conv3d_winograd_input.wgsl); y [N, D, OH, OW, C]
//         channels-last, C % 4 == 0, bound as vec4; bias [C] (read only when has_bias = 1).
// Dispatch: one invocation per (tile < T, channel quad), ceil(T·C/4 / WG) in 1-D, folded
//           into y (grid1d).
// Bindings: 0 params, 1 m (read), 2 bias (read), 3 y (read_write).
override WG: u32 = 64;
override TILE: u32 = 2; // m: outputs per tile side, 2 or 4
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

/** Aᵀ times one column (or row) of α values: m outputs; entries past m are unused. */
fn at(q: array<vec4f, 6>) -> array<vec4f, 4> {
  if (TILE == 2u) {
    return array<vec4f, 4>(q[0] + q[1] + q[2], q[1] - q[2] - q[3], vec4f(0.0), vec4f(0.0));
  }
  let sum12 = q[1] + q[2];
  let dif12 = q[1] - q[2];
  let sum34 = q[3] + q[4];
  let dif34 = q[3] - q[4];
  return array<vec4f, 4>(q[0] + sum12 + sum34, dif12 + 2.0 * dif34, sum12 + 4.0 * sum34, dif12 + 8.0 * dif34 + q[5]);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let alpha = TILE + 2u;
  let c4s = p.c / 4u;
  let g = gid.x + gid.y * nwg.x * WG;
  if (g >= p.t * c4s) {
    return;
  }
  let c4 = g % c4s;
  let t = g / c4s;
  let stride = p.t_pad * c4s;
  // Columns: e = Aᵀ M (m×α), then rows: Y = e A (m×m).
  var e: array<vec4f, 24>;
  for (var s = 0u; s < alpha; s++) {
    var col: array<vec4f, 6>;
    for (var r = 0u; r < alpha; r++) {
      col[r] = m[(alpha * r + s) * stride + g];
    }
    let z = at(col);
    for (var a = 0u; a < TILE; a++) {
      e[alpha * a + s] = z[a];
    }
  }
  var b = vec4f(0.0);
  if (p.has_bias != 0u) {
    b = bias[c4];
  }
  let j = t % p.tw;
  let i = (t / p.tw) % p.th;
  let nd = t / (p.tw * p.th);
  for (var a = 0u; a < TILE; a++) {
    let oh = TILE * i + a;
    if (oh >= p.oh) {
      continue;
    }
    var row: array<vec4f, 6>;
    for (var s = 0u; s < alpha; s++) {
      row[s] = e[alpha * a + s];
    }
    let z = at(row);
    for (var bb = 0u; bb < TILE; bb++) {
      let ow = TILE * j + bb;
      if (ow >= p.ow) {
        continue;
      }
      let o = ((nd * p.oh + oh) * p.ow + ow) * c4s + c4;
      if (ACCUMULATE) {
        y[o] += z[bb];
      } else {
        y[o] = z[bb] + b;
      }
    }
  }
}
