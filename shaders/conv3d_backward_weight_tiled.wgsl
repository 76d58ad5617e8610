// The variant conv3d_backward_weight.wgsl replaced, kept in bench/conv3d.bench.ts for comparison.
// conv3d backward with respect to the weights and bias, as a split-K GEMM:
//   dw[zd, zh, zw, ci, co] = sum_{n, od, oh, ow} x[n, od+zd-pd, oh+zh-ph, ow+zw-pw, ci] * dy[n, od, oh, ow, co]
//   db[co]                 = sum_{n, od, oh, ow} dy[n, od, oh, ow, co]
//
// GEMM view: G[K+1, Cout] = A[K+1, P] · dY[P, Cout], with
//   K = kd·kh·kw·Cin weight rows plus one row of ones (its product is db),
//   P = N·OD·OH·OW output positions (the reduction), A[k, p] = the input tap of
//   position p at kernel offset k (gathered on the fly, zero outside x).
// P is large and K·Cout can be small, so the reduction is split: workgroup z sums
// positions [z·tiles_per_split·BK, (z+1)·tiles_per_split·BK) and writes its partial
// G to partial[z]; conv3d_backward_reduce adds the partials into dw and db.
//
// Layouts (row-major, channels last): x [N, D, H, W, Cin], dy [N, OD, OH, OW, Cout],
// partial [splits, K+1, Cout]. x and dy are bound as vec4 arrays, so their buffers must
// be sized to a multiple of 16 bytes; scalar elements are read as v[i / 4][i % 4].
//
// Tiling as conv3d_forward_tiled, with the roles of the operands: a workgroup owns a BM×BN tile
// of G, stages BK positions of A (p-major, vec4 along k) and of dY (p-major, vec4 along
// Cout) in workgroup memory, and each invocation accumulates a TM×TN register block.
// With VEC_A (Cin % 4 == 0) one vec4 load gives four consecutive k (four channels of
// one tap) of A; with VEC_B (Cout % 4 == 0) one vec4 load gives four channels of dY.
//
// Dispatch: workgroups (ceil(Cout / BN), ceil((K+1) / BM), splits);
//           workgroup size (BN / TN, BM / TM).
// Bindings: 0 params, 1 dy (read), 2 x (read), 3 partial (read_write).
override BM: u32 = 64;
override BN: u32 = 64;
override BK: u32 = 16;
override TM: u32 = 4;
override TN: u32 = 4;
override WG_X: u32 = 16; // BN / TN
override WG_Y: u32 = 16; // BM / TM
override VEC_A: bool = false;
override VEC_B: bool = false;
// Register blocks live in function-scope arrays, which need constant sizes:
// TM·TN <= 64 and TN <= 8.
const ACC_MAX: u32 = 16u;
const TN_MAX: u32 = 8u;

struct Params {
  n: u32, d: u32, h: u32, w: u32, cin: u32,
  od: u32, oh: u32, ow: u32, cout: u32,
  kd: u32, kh: u32, kw: u32,
  pd: u32, ph: u32, pw: u32,
  m: u32, k: u32, // m = P (positions), k = K (weight rows, without the ones row)
  tiles_per_split: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read> x: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

// p-major tiles, vec4 along the K (resp. Cout) dimension.
var<workgroup> As: array<vec4f, BK * BM / 4>;
var<workgroup> Bs: array<vec4f, BK * BN / 4>;

// Kernel offset of weight row k: the tap relative to an output position, and the channel.
struct Tap {
  zd: i32,
  zh: i32,
  zw: i32,
  ci: u32,
  kind: u32, // 0: a weight row, 1: the ones row (bias), 2: past the end
}

fn decode_tap(k: u32) -> Tap {
  var t: Tap;
  t.kind = select(select(2u, 1u, k == params.k), 0u, k < params.k);
  let kk = min(k, params.k - 1u);
  t.ci = kk % params.cin;
  let q = kk / params.cin;
  t.zw = i32(q % params.kw) - i32(params.pw);
  let q2 = q / params.kw;
  t.zh = i32(q2 % params.kh) - i32(params.ph);
  t.zd = i32(q2 / params.kh) - i32(params.pd);
  return t;
}

// Output position p, or valid = false past P.
struct Pos {
  base: u32, // element offset of x[n, 0, 0, 0, 0]
  od: i32,
  oh: i32,
  ow: i32,
  valid: bool,
}

fn decode_pos(p: u32, end: u32) -> Pos {
  var q: Pos;
  q.valid = p < end;
  let pp = min(p, params.m - 1u);
  q.ow = i32(pp % params.ow);
  let t = pp / params.ow;
  q.oh = i32(t % params.oh);
  let t2 = t / params.oh;
  q.od = i32(t2 % params.od);
  let n = t2 / params.od;
  q.base = n * params.d * params.h * params.w * params.cin;
  return q;
}

// Offset into x of tap t at position q without the channel, or -1 outside x.
fn x_offset(t: Tap, q: Pos) -> i32 {
  let id = q.od + t.zd;
  let ih = q.oh + t.zh;
  let iw = q.ow + t.zw;
  if (id < 0 || ih < 0 || iw < 0 || id >= i32(params.d) || ih >= i32(params.h) || iw >= i32(params.w)) {
    return -1;
  }
  return i32(q.base + ((u32(id) * params.h + u32(ih)) * params.w + u32(iw)) * params.cin);
}

// A[k, p]: the input tap, 1 on the ones row, 0 elsewhere.
fn a_elem(t: Tap, q: Pos) -> f32 {
  if (!q.valid || t.kind == 2u) {
    return 0.0;
  }
  if (t.kind == 1u) {
    return 1.0;
  }
  let o = x_offset(t, q);
  if (o < 0) {
    return 0.0;
  }
  let i = u32(o) + t.ci;
  return x[i >> 2u][i & 3u];
}

// A[k..k+3, p] with Cin % 4 == 0 and k % 4 == 0 (t decodes k): one tap, four channels.
fn a_vec4(t: Tap, q: Pos) -> vec4f {
  if (!q.valid || t.kind == 2u) {
    return vec4f(0.0);
  }
  if (t.kind == 1u) {
    return vec4f(1.0, 0.0, 0.0, 0.0);
  }
  let o = x_offset(t, q);
  if (o < 0) {
    return vec4f(0.0);
  }
  return x[(u32(o) + t.ci) >> 2u];
}

// dY[p, c..c+3], zero past the split's end or Cout.
fn b_row4(p: u32, end: u32, c: u32) -> vec4f {
  if (p >= end) {
    return vec4f(0.0);
  }
  let i = p * params.cout + c;
  if (VEC_B) {
    if (c >= params.cout) {
      return vec4f(0.0);
    }
    return dy[i >> 2u];
  }
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (c + j < params.cout) {
      v[j] = dy[(i + j) >> 2u][(i + j) & 3u];
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
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let nthreads = WG_X * WG_Y;
  let rows = params.k + 1u;
  let p_begin = wid.z * params.tiles_per_split * BK;
  let p_end = min(params.m, p_begin + params.tiles_per_split * BK);

  // A is staged in 4×4 blocks (4 consecutive k × 4 positions). Each invocation keeps
  // the same 4 weight rows for the whole reduction, so their decoding happens once.
  let a_blocks = BM * BK / 16u;
  let a_k4 = tid % (BM / 4u);
  var taps: array<Tap, 4>;
  for (var i = 0u; i < 4u; i++) {
    taps[i] = decode_tap(row0 + a_k4 * 4u + i);
  }

  var acc: array<vec4f, ACC_MAX>;
  for (var i = 0u; i < TM * TN / 4u; i++) {
    acc[i] = vec4f(0.0);
  }

  for (var p0 = p_begin; p0 < p_end; p0 += BK) {
    for (var blk = tid; blk < a_blocks; blk += nthreads) {
      let p4 = blk / (BM / 4u);
      for (var j = 0u; j < 4u; j++) {
        let q = decode_pos(p0 + p4 * 4u + j, p_end);
        var v: vec4f;
        if (VEC_A) {
          v = a_vec4(taps[0], q);
        } else {
          v = vec4f(a_elem(taps[0], q), a_elem(taps[1], q), a_elem(taps[2], q), a_elem(taps[3], q));
        }
        As[(p4 * 4u + j) * (BM / 4u) + a_k4] = v;
      }
    }
    for (var blk = tid; blk < BK * BN / 4u; blk += nthreads) {
      let pp = blk / (BN / 4u);
      let c4 = blk % (BN / 4u);
      Bs[blk] = b_row4(p0 + pp, p_end, col0 + c4 * 4u);
    }
    workgroupBarrier();

    for (var kk = 0u; kk < BK; kk++) {
      var b: array<vec4f, TN_MAX / 4>;
      for (var j = 0u; j < TN / 4u; j++) {
        b[j] = Bs[kk * (BN / 4u) + lid.x * (TN / 4u) + j];
      }
      for (var i4 = 0u; i4 < TM / 4u; i4++) {
        let a = As[kk * (BM / 4u) + lid.y * (TM / 4u) + i4];
        for (var c = 0u; c < 4u; c++) {
          for (var j = 0u; j < TN / 4u; j++) {
            acc[(i4 * 4u + c) * (TN / 4u) + j] += a[c] * b[j];
          }
        }
      }
    }
    workgroupBarrier();
  }

  // Every split writes its whole tile (zeros where it had no positions), so the
  // reduction needs no clearing.
  let split_base = wid.z * rows * params.cout;
  for (var i = 0u; i < TM; i++) {
    let r = row0 + lid.y * TM + i;
    if (r >= rows) {
      continue;
    }
    for (var j = 0u; j < TN; j++) {
      let c = col0 + lid.x * TN + j;
      if (c < params.cout) {
        partial[split_base + r * params.cout + c] = acc[i * (TN / 4u) + j / 4u][j % 4u];
      }
    }
  }
}
