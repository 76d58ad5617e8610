// Winograd F(m×m, 3×3), kernel transform U = G g Gᵀ, m = TILE (2 or 4), of every
// (input, output) channel pair of a 1×3×3 conv3d kernel (conv3d_winograd.ts); G (α×3,
// α = m + 2) is applied to g's columns, then to the rows of the result (fn gk):
//   m = 2:  G = ⎡ 1    0    0 ⎤      m = 4:  G = ⎡ 1/4    0     0  ⎤
//               ⎢1/2  1/2  1/2⎥                  ⎢-1/6  -1/6  -1/6 ⎥
//               ⎢1/2 -1/2  1/2⎥                  ⎢-1/6   1/6  -1/6 ⎥
//               ⎣ 0    0    1 ⎦                  ⎢1/24  1/12   1/6 ⎥
//                                                ⎢1/24 -1/12   1/6 ⎥
//                                                ⎣  0     0     1  ⎦
// U[ξ = α·a + b] is the (a, b) element of G g Gᵀ.
//   FLIP = false (forward):        g[r][s] = w[0, r, s, ci, co],         u [α², Cin, Cout]
//   FLIP = true (backward_input):  g[r][s] = w[0, 2 − r, 2 − s, ci, co], u [α², Cout, Cin]
// (backward_input is the convolution of dy with the flipped, channel-transposed kernel).
//
// Layout: w [1, 3, 3, Cin, Cout]; u as above (ξ-major: one [rows, cols] matrix per ξ,
//         `stride` floats apart so that each starts at a bindable offset).
// Dispatch: one invocation per element of a [rows, cols] matrix (rows = Cin, cols = Cout,
//           or the reverse with FLIP), ceil(rows·cols / WG) in 1-D, folded into y (grid1d).
// Bindings: 0 params {cin, cout, stride: u32}, 1 w (read), 2 u (read_write).
override WG: u32 = 64;
override TILE: u32 = 2; // m: outputs per tile side, 2 or 4
override FLIP: bool = false;

struct Params {
  cin: u32,
  cout: u32,
  stride: u32, // floats from one ξ's matrix to the next: Cin·Cout rounded up to 64
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> u: array<f32>;

/** G times one column (or row) of 3 taps: α values; entries past α are unused. */
fn gk(k: array<f32, 3>) -> array<f32, 6> {
  if (TILE == 2u) {
    return array<f32, 6>(k[0], 0.5 * (k[0] + k[1] + k[2]), 0.5 * (k[0] - k[1] + k[2]), k[2], 0.0, 0.0);
  }
  let even = k[0] / 24.0 + k[2] / 6.0;
  return array<f32, 6>(k[0] / 4.0, -(k[0] + k[1] + k[2]) / 6.0, -(k[0] - k[1] + k[2]) / 6.0, even + k[1] / 12.0, even - k[1] / 12.0, k[2]);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let alpha = TILE + 2u;
  let count = params.cin * params.cout;
  let g = gid.x + gid.y * nwg.x * WG;
  if (g >= count) {
    return;
  }
  // (row, col) of u's matrices; the kernel element (ci, co) they come from.
  var ci = g / params.cout;
  var co = g % params.cout;
  if (FLIP) {
    co = g / params.cin;
    ci = g % params.cin;
  }
  var k: array<f32, 9>;
  for (var r = 0u; r < 3u; r++) {
    for (var s = 0u; s < 3u; s++) {
      let rr = select(r, 2u - r, FLIP);
      let ss = select(s, 2u - s, FLIP);
      k[3u * r + s] = w[((rr * 3u + ss) * params.cin + ci) * params.cout + co];
    }
  }
  // Columns: e = G g (α×3), then rows: U = e Gᵀ (α×α).
  var e: array<f32, 18>;
  for (var s = 0u; s < 3u; s++) {
    let z = gk(array<f32, 3>(k[s], k[3u + s], k[6u + s]));
    for (var r = 0u; r < alpha; r++) {
      e[3u * r + s] = z[r];
    }
  }
  for (var r = 0u; r < alpha; r++) {
    let z = gk(array<f32, 3>(e[3u * r], e[3u * r + 1u], e[3u * r + 2u]));
    for (var b = 0u; b < alpha; b++) {
      u[(alpha * r + b) * params.stride + g] = z[b];
    }
  }
}
