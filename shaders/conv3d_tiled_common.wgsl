// The staging and register-block product shared by the tiled implicit GEMMs
// (conv3d_forward_tiled.wgsl, conv3d_backward_input_tiled.wgsl), pasted where a shader
// has the line
//   // #include conv3d_tiled_common.wgsl
// The including shader defines `Row` (where a row of A reads its input), decode_row
// and `a_row4(r, k)`: A[m, k..k+3] of row r, zero outside its input or past K.
//
// A workgroup owns a BM×BN tile of the output; for each BK-slice of K both operands
// are staged in workgroup memory, k-major with vec4 along the output dimension, and
// each invocation accumulates a TM×TN register block from vec4 reads.
override BM: u32 = 64;
override BN: u32 = 64;
override BK: u32 = 16;
override TM: u32 = 4;
override TN: u32 = 4;
override WG_X: u32 = 16; // BN / TN
override WG_Y: u32 = 16; // BM / TM
// Register blocks live in function-scope arrays, which need constant sizes:
// TM·TN <= 64 and TN <= 8.
const ACC_MAX: u32 = 16u;
const TN_MAX: u32 = 8u;

// k-major tiles, vec4 along the output rows (As) and output channels (Bs).
var<workgroup> As: array<vec4f, BK * BM / 4>;
var<workgroup> Bs: array<vec4f, BK * BN / 4>;

// Stages A[row0 .., k0 .. k0 + BK) in 4×4 blocks (4 rows × 4 consecutive k), transposed
// so As is k-major with vec4 along m. Invocation tid always takes the 4 rows `rows`
// (rows a_m4·4 .. of the tile), decoded once for the whole K loop.
fn stage_a(tid: u32, k0: u32, a_m4: u32, rows: array<Row, 4>) {
  for (var blk = tid; blk < BM * BK / 16u; blk += WG_X * WG_Y) {
    let k4 = blk / (BM / 4u);
    let k = k0 + k4 * 4u;
    var v: array<vec4f, 4>;
    for (var i = 0u; i < 4u; i++) {
      v[i] = a_row4(rows[i], k);
    }
    for (var j = 0u; j < 4u; j++) {
      As[(k4 * 4u + j) * (BM / 4u) + a_m4] = vec4f(v[0][j], v[1][j], v[2][j], v[3][j]);
    }
  }
}

// acc[i·TN/4 + j/4][j % 4] += sum over the staged slice of As[·, row i] · Bs[·, column j]
// for this invocation's TM rows (lid.y) and TN columns (lid.x).
fn multiply_staged(lid: vec3u, acc: ptr<function, array<vec4f, ACC_MAX>>) {
  for (var kk = 0u; kk < BK; kk++) {
    var b: array<vec4f, TN_MAX / 4>;
    for (var j = 0u; j < TN / 4u; j++) {
      b[j] = Bs[kk * (BN / 4u) + lid.x * (TN / 4u) + j];
    }
    for (var i4 = 0u; i4 < TM / 4u; i4++) {
      let a = As[kk * (BM / 4u) + lid.y * (TM / 4u) + i4];
      for (var c = 0u; c < 4u; c++) {
        for (var j = 0u; j < TN / 4u; j++) {
          (*acc)[(i4 * 4u + c) * (TN / 4u) + j] += a[c] * b[j];
        }
      }
    }
  }
}
