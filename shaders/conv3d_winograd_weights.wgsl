// Winograd F(2×2, 3×3), kernel transform U = G g Gᵀ of every (input, output) channel
// pair of a 1×3×3 conv3d kernel (conv3d_winograd.ts):
//       ⎡ 1    0    0 ⎤
//   G = ⎢1/2  1/2  1/2⎥     U[ξ = 4a + b] is the (a, b) element of G g Gᵀ.
//       ⎢1/2 -1/2  1/2⎥
//       ⎣ 0    0    1 ⎦
//   FLIP = false (forward):        g[r][s] = w[0, r, s, ci, co],         u [16, Cin, Cout]
//   FLIP = true (backward_input):  g[r][s] = w[0, 2 − r, 2 − s, ci, co], u [16, Cout, Cin]
// (backward_input is the convolution of dy with the flipped, channel-transposed kernel).
//
// Layout: w [1, 3, 3, Cin, Cout]; u as above (ξ-major: one [rows, cols] matrix per ξ,
//         `stride` floats apart so that each starts at a bindable offset).
// Dispatch: one invocation per element of a [rows, cols] matrix (rows = Cin, cols = Cout,
//           or the reverse with FLIP), ceil(rows·cols / WG) in 1-D, folded into y (grid1d).
// Bindings: 0 params {cin, cout, stride: u32}, 1 w (read), 2 u (read_write).
override WG: u32 = 64;
override FLIP: bool = false;

struct Params {
  cin: u32,
  cout: u32,
  stride: u32, // floats from one ξ's matrix to the next: Cin·Cout rounded up to 64
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> u: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
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
  // Rows: e = G g (4×3), then columns: U = e Gᵀ (4×4).
  var e: array<f32, 12>;
  for (var s = 0u; s < 3u; s++) {
    e[s] = k[s];
    e[3u + s] = 0.5 * (k[s] + k[3u + s] + k[6u + s]);
    e[6u + s] = 0.5 * (k[s] - k[3u + s] + k[6u + s]);
    e[9u + s] = k[6u + s];
  }
  for (var r = 0u; r < 4u; r++) {
    let q = 3u * r;
    let vals = array<f32, 4>(e[q], 0.5 * (e[q] + e[q + 1u] + e[q + 2u]), 0.5 * (e[q] - e[q + 1u] + e[q + 2u]), e[q + 2u]);
    for (var b = 0u; b < 4u; b++) {
      u[(4u * r + b) * params.stride + g] = vals[b];
    }
  }
}
