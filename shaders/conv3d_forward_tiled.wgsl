// conv3d forward as a tiled implicit GEMM with workgroup-memory staging: the candidate
// for GPUs whose subgroups are 32 or 64 lanes wide, where the 8-lane shuffle kernels
// do not apply and the direct kernels reload the shared operand in every invocation.
// `ser tune` times it against the others per layer shape (src/kernels/conv3d_tune.ts);
// on lavapipe every workgroup-memory read in its inner loop is a per-lane gather and
// a barrier costs a thread switch per invocation, so it rarely wins there.
//
// Math:
//   y[n, od, oh, ow, co] = b[co] + sum_{zd, zh, zw, ci} x[n, od+zd-pd, oh+zh-ph, ow+zw-pw, ci] * w[zd, zh, zw, ci, co]
// (taps that fall outside the input read zero: `same` or `valid` padding, stride 1).
//
// GEMM view: Y[M, Cout] = A[M, K] · B[K, Cout] (+ bias), with
//   M = N·OD·OH·OW output positions, K = kd·kh·kw·Cin,
//   A[m, k] = the input tap of position m and kernel offset k, gathered on the fly (never materialised),
//   B = w read as a row-major [K, Cout] matrix (the weight layout already is).
//
// Layouts (row-major, channels last): x [N, D, H, W, Cin], w [kd, kh, kw, Cin, Cout],
// b [Cout], y [N, OD, OH, OW, Cout]. x, w and y are bound as vec4 arrays, so their buffers
// must be sized to a multiple of 16 bytes (the pool and Gpu.upload guarantee it);
// scalar elements are read as v[i / 4][i % 4]. Workgroup memory: (BM + BN)·BK floats.
//
// Tiling: a workgroup computes a BM×BN tile of Y. For each BK-slice of K it stages
// A and B in workgroup memory (both stored k-major, vec4 along the output dimension),
// then each invocation accumulates a TM×TN register block from vec4 reads.
// Staging loads 4×4 blocks: with VEC_A (Cin % 4 == 0) one vec4 load gives four
// consecutive k of one row, otherwise four scalar loads with bounds checks; likewise
// VEC_B (Cout % 4 == 0) for weight rows.
//
// Dispatch: workgroups (ceil(Cout / BN), ceil(M / BM) folded as y + z·num_workgroups.y);
//           workgroup size (BN / TN, BM / TM).
// Bindings: 0 params, 1 x (read), 2 w (read), 3 b (read; unused when has_bias = 0),
//           4 y (read_write).
override VEC_A: bool = false;
override VEC_B: bool = false;

// params and bindings: shared with the other conv3d forward shaders
// #include conv3d_forward_io.wgsl

// output_position: shared with the other conv3d shaders
// #include conv3d_common.wgsl

// BM … TN, As, Bs, stage_a, multiply_staged: shared with the other tiled conv3d shader
// #include conv3d_tiled_common.wgsl

// Where row m's receptive field starts in x; `valid` is false past the last row.
struct Row {
  base: u32, // element offset of x[n, 0, 0, 0, 0]
  id: i32,
  ih: i32,
  iw: i32,
  valid: bool,
}

fn decode_row(m: u32) -> Row {
  let q = output_position(m);
  var r: Row;
  r.valid = m < params.m;
  r.base = u32(q.w);
  r.id = q.x - i32(params.pd);
  r.ih = q.y - i32(params.ph);
  r.iw = q.z - i32(params.pw);
  return r;
}

fn x_scalar(i: u32) -> f32 {
  return x[i >> 2u][i & 3u];
}

fn w_scalar(i: u32) -> f32 {
  return wt[i >> 2u][i & 3u];
}

// A[m, k] for one row, zero outside the input or past K.
fn a_elem(r: Row, k: u32) -> f32 {
  if (!r.valid || k >= params.k) {
    return 0.0;
  }
  let ci = k % params.cin;
  let t = k / params.cin;
  let zw = t % params.kw;
  let t2 = t / params.kw;
  let zh = t2 % params.kh;
  let zd = t2 / params.kh;
  let id = r.id + i32(zd);
  let ih = r.ih + i32(zh);
  let iw = r.iw + i32(zw);
  if (id < 0 || ih < 0 || iw < 0 || id >= i32(params.d) || ih >= i32(params.h) || iw >= i32(params.w)) {
    return 0.0;
  }
  return x_scalar(r.base + ((u32(id) * params.h + u32(ih)) * params.w + u32(iw)) * params.cin + ci);
}

// A[m, k..k+3] with Cin % 4 == 0 and k % 4 == 0: one tap, four channels.
fn a_vec4(r: Row, k: u32) -> vec4f {
  if (!r.valid || k >= params.k) {
    return vec4f(0.0);
  }
  let ci = k % params.cin;
  let t = k / params.cin;
  let zw = t % params.kw;
  let t2 = t / params.kw;
  let zh = t2 % params.kh;
  let zd = t2 / params.kh;
  let id = r.id + i32(zd);
  let ih = r.ih + i32(zh);
  let iw = r.iw + i32(zw);
  if (id < 0 || ih < 0 || iw < 0 || id >= i32(params.d) || ih >= i32(params.h) || iw >= i32(params.w)) {
    return vec4f(0.0);
  }
  return x[(r.base + ((u32(id) * params.h + u32(ih)) * params.w + u32(iw)) * params.cin + ci) >> 2u];
}

// A[m, k..k+3] of row r, as conv3d_tiled_common.wgsl's staging reads it.
fn a_row4(r: Row, k: u32) -> vec4f {
  if (VEC_A) {
    return a_vec4(r, k);
  }
  return vec4f(a_elem(r, k), a_elem(r, k + 1u), a_elem(r, k + 2u), a_elem(r, k + 3u));
}

// B[k, c..c+3], zero past K or Cout.
fn b_row4(k: u32, c: u32) -> vec4f {
  if (k >= params.k) {
    return vec4f(0.0);
  }
  let i = k * params.cout + c;
  if (VEC_B) {
    if (c >= params.cout) {
      return vec4f(0.0);
    }
    return wt[i >> 2u];
  }
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (c + j < params.cout) {
      v[j] = w_scalar(i + j);
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

  // Each sum starts at the bias of its channel (the same order as the other forward kernels).
  var acc: array<vec4f, ACC_MAX>;
  for (var j = 0u; j < TN / 4u; j++) {
    let b = bias4(col0 + lid.x * TN + 4u * j);
    for (var i = 0u; i < TM; i++) {
      acc[i * (TN / 4u) + j] = b;
    }
  }

  for (var k0 = 0u; k0 < params.k; k0 += BK) {
    stage_a(tid, k0, a_m4, rows);
    for (var blk = tid; blk < BK * BN / 4u; blk += nthreads) {
      let kk = blk / (BN / 4u);
      let c4 = blk % (BN / 4u);
      Bs[blk] = b_row4(k0 + kk, col0 + c4 * 4u);
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
      store_y4(m, col0 + lid.x * TN + 4u * j, acc[i * (TN / 4u) + j]);
    }
  }
}
