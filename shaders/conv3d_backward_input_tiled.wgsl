// conv3d backward with respect to the input, as an implicit GEMM
// (accumulating; with ACCUMULATE false, = instead of +=):
//   dx[n, i, j, l, ci] += sum_{zd, zh, zw, co} dy[n, i+pd-zd, j+ph-zh, l+pw-zw, co] * w[zd, zh, zw, ci, co]
// (output positions outside dy contribute nothing). This is the forward convolution
// of dy with the spatially flipped, channel-transposed kernel, indexed without copying it.
//
// GEMM view: dX[Mi, Cin] += A[Mi, K] · B[K, Cin], with
//   Mi = N·D·H·W input positions, K = kd·kh·kw·Cout,
//   A[m, k] = the dy value of position m at kernel offset k (gathered on the fly),
//   B[(z, co), ci] = w[z, ci, co] (w transposed per tap, read through the staging).
//
// Layouts (row-major, channels last): dy [N, OD, OH, OW, Cout], w [kd, kh, kw, Cin, Cout],
// dx [N, D, H, W, Cin]. dy, w and dx are bound as vec4 arrays, so their buffers must be sized
// to a multiple of 16 bytes; scalar elements are read as v[i / 4][i % 4].
//
// The candidate for GPUs with 32- or 64-lane subgroups, as conv3d_forward_tiled.wgsl
// (`ser tune` chooses per layer shape). Tiling as conv3d_forward_tiled: a workgroup owns a BM×BN tile of dX, stages BK-slices of
// A and B (k-major, vec4 along the output dimension) in workgroup memory, and each
// invocation accumulates a TM×TN register block. Staging loads 4×4 blocks; with
// VEC (Cout % 4 == 0) one vec4 load gives four consecutive k (four output channels
// of one tap) of a row of A, or of a column of B, otherwise four scalar loads.
//
// Dispatch: workgroups (ceil(Cin / BN), ceil(Mi / BM) folded as y + z·num_workgroups.y);
//           workgroup size (BN / TN, BM / TM).
// Bindings: 0 params, 1 dy (read), 2 w (read), 3 dx (read_write).
override VEC: bool = false;

// params and bindings: shared with the other conv3d backward_input shaders
// #include conv3d_backward_input_io.wgsl

// input_position: shared with the other conv3d shaders
// #include conv3d_common.wgsl

// BM … TN, As, Bs, stage_a, multiply_staged: shared with the other tiled conv3d shader
// #include conv3d_tiled_common.wgsl

// Where input position m's contributions come from in dy; `valid` is false past the last row.
struct Row {
  base: u32, // element offset of dy[n, 0, 0, 0, 0]
  id: i32,   // i + pd: the output depth index is id - zd
  ih: i32,
  iw: i32,
  valid: bool,
}

fn decode_row(m: u32) -> Row {
  let q = input_position(m);
  var r: Row;
  r.valid = m < params.m;
  r.base = u32(q.w);
  r.id = q.x;
  r.ih = q.y;
  r.iw = q.z;
  return r;
}

fn dy_scalar(i: u32) -> f32 {
  return dy[i >> 2u][i & 3u];
}

fn w_scalar(i: u32) -> f32 {
  return wt[i >> 2u][i & 3u];
}

// Offset into dy of A[m, k] with its output channel left out, or -1 outside dy / past K.
fn a_offset(r: Row, k: u32) -> i32 {
  if (!r.valid || k >= params.k) {
    return -1;
  }
  let t = k / params.cout;
  let zw = t % params.kw;
  let t2 = t / params.kw;
  let zh = t2 % params.kh;
  let zd = t2 / params.kh;
  let od = r.id - i32(zd);
  let oh = r.ih - i32(zh);
  let ow = r.iw - i32(zw);
  if (od < 0 || oh < 0 || ow < 0 || od >= i32(params.od) || oh >= i32(params.oh) || ow >= i32(params.ow)) {
    return -1;
  }
  return i32(r.base + ((u32(od) * params.oh + u32(oh)) * params.ow + u32(ow)) * params.cout);
}

fn a_elem(r: Row, k: u32) -> f32 {
  let o = a_offset(r, k);
  if (o < 0) {
    return 0.0;
  }
  return dy_scalar(u32(o) + k % params.cout);
}

// A[m, k..k+3] with Cout % 4 == 0 and k % 4 == 0: one tap, four output channels.
fn a_vec4(r: Row, k: u32) -> vec4f {
  let o = a_offset(r, k);
  if (o < 0) {
    return vec4f(0.0);
  }
  return dy[(u32(o) + k % params.cout) >> 2u];
}

// A[m, k..k+3] of row r, as conv3d_tiled_common.wgsl's staging reads it.
fn a_row4(r: Row, k: u32) -> vec4f {
  if (VEC) {
    return a_vec4(r, k);
  }
  return vec4f(a_elem(r, k), a_elem(r, k + 1u), a_elem(r, k + 2u), a_elem(r, k + 3u));
}

// B[k..k+3, ci] = w[z, ci, co..co+3] for k = z·Cout + co, zero past K or Cin.
fn b_col4(k: u32, ci: u32) -> vec4f {
  if (ci >= params.cin || k >= params.k) {
    return vec4f(0.0);
  }
  let co = k % params.cout;
  let z = k / params.cout;
  let i = (z * params.cin + ci) * params.cout + co;
  if (VEC) {
    return wt[i >> 2u];
  }
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    let kj = k + j;
    if (kj < params.k) {
      v[j] = w_scalar(((kj / params.cout) * params.cin + ci) * params.cout + kj % params.cout);
    }
  }
  return v;
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) tid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let row0 = (wid.y + wid.z * nwg.y) * BM;
  let col0 = wid.x * BN;
  let nthreads = WG_X * WG_Y;

  // Each invocation stages the same 4 rows of A for the whole K loop (stage_a), so
  // their decoding happens once.
  let a_m4 = tid % (BM / 4u);
  var rows: array<Row, 4>;
  for (var i = 0u; i < 4u; i++) {
    rows[i] = decode_row(row0 + a_m4 * 4u + i);
  }

  var acc: array<vec4f, ACC_MAX>;
  for (var i = 0u; i < TM * TN / 4u; i++) {
    acc[i] = vec4f(0.0);
  }

  for (var k0 = 0u; k0 < params.k; k0 += BK) {
    stage_a(tid, k0, a_m4, rows);
    // B is staged in 4×4 blocks too (4 consecutive k × 4 input channels), transposed
    // because w is contiguous along k's output channel, not along Cin.
    for (var blk = tid; blk < BK * BN / 16u; blk += nthreads) {
      let k4 = blk / (BN / 4u);
      let c4 = blk % (BN / 4u);
      var v: array<vec4f, 4>;
      for (var j = 0u; j < 4u; j++) {
        v[j] = b_col4(k0 + k4 * 4u, col0 + c4 * 4u + j);
      }
      for (var i = 0u; i < 4u; i++) {
        Bs[(k4 * 4u + i) * (BN / 4u) + c4] = vec4f(v[0][i], v[1][i], v[2][i], v[3][i]);
      }
    }
    workgroupBarrier();
    multiply_staged(lid, &acc);
    workgroupBarrier();
  }

  for (var i = 0u; i < TM; i++) {
    let m = row0 + lid.y * TM + i;
    if (m >= params.m) {
      continue;
    }
    for (var j = 0u; j < TN / 4u; j++) {
      store_dx4(m, col0 + lid.x * TN + 4u * j, acc[i * (TN / 4u) + j]);
    }
  }
}
