// Winograd F(m×m, 3×3) for backward_weight, m = TILE (2 or 4): the kernel gradient in
// the transform domain, dU [α², Cin, Cout] (α = m + 2; the GEMMs of conv3d_winograd.ts
// over conv3d_winograd_input.wgsl's V and conv3d_winograd_dy.wgsl's Ŷ), taken back to
// the 1×3×3 taps, dg = Gᵀ dU G (the transpose of the kernel transform U = G g Gᵀ of
// conv3d_winograd_weights.wgsl, whose matrices G are drawn there), and added into dw:
//   dw[0, r, s, ci, co] += dg[r][s]
// Gᵀ (3×α) is applied to dU's columns, then to the rows of the result (fn gt).
//
// Layout: du [α², Cin, Cout] (ξ-major, `stride` floats apart); dw [1, 3, 3, Cin, Cout].
// Dispatch: one invocation per (ci, co), ceil(Cin·Cout / WG) in 1-D, folded into y (grid1d).
// Bindings: 0 params {cin, cout, stride: u32}, 1 du (read), 2 dw (read_write).
override WG: u32 = 64;
override TILE: u32 = 2; // m: outputs per tile side, 2 or 4

struct Params {
  cin: u32,
  cout: u32,
  stride: u32, // floats from one ξ's matrix to the next
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> du: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;

/** Gᵀ times one column (or row) of α values: 3 taps. */
fn gt(q: array<f32, 6>) -> array<f32, 3> {
  if (TILE == 2u) {
    let h = 0.5 * (q[1] + q[2]);
    return array<f32, 3>(q[0] + h, 0.5 * (q[1] - q[2]), h + q[3]);
  }
  let sum12 = q[1] + q[2];
  let sum34 = q[3] + q[4];
  return array<f32, 3>(
    q[0] / 4.0 - sum12 / 6.0 + sum34 / 24.0,
    (q[2] - q[1]) / 6.0 + (q[3] - q[4]) / 12.0,
    sum34 / 6.0 - sum12 / 6.0 + q[5],
  );
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let alpha = TILE + 2u;
  let count = params.cin * params.cout;
  let g = gid.x + gid.y * nwg.x * WG;
  if (g >= count) {
    return;
  }
  var q: array<f32, 36>;
  for (var k = 0u; k < alpha * alpha; k++) {
    q[k] = du[k * params.stride + g];
  }
  // Columns: e = Gᵀ dU (3×α), then rows: dg = e G (3×3).
  var e: array<f32, 18>;
  for (var s = 0u; s < alpha; s++) {
    var col: array<f32, 6>;
    for (var r = 0u; r < alpha; r++) {
      col[r] = q[alpha * r + s];
    }
    let z = gt(col);
    for (var r = 0u; r < 3u; r++) {
      e[alpha * r + s] = z[r];
    }
  }
  for (var r = 0u; r < 3u; r++) {
    var row: array<f32, 6>;
    for (var s = 0u; s < alpha; s++) {
      row[s] = e[alpha * r + s];
    }
    let z = gt(row);
    for (var s = 0u; s < 3u; s++) {
      dw[(r * 3u + s) * count + g] += z[s];
    }
  }
}
