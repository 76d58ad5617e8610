// dense layer GEMM, one kernel for all three directions:
//   C[i, j] (=|+=) sum_k A(i, k) * B(k, j)  (+ bias[j])
// with A(i, k) = a[i*a_si + k*a_sk] and B(k, j) = b[k*b_sk + j*b_sj], so that a
// transposed operand is only a change of strides (src/kernels/dense.ts):
//   forward          y  = x · w + b    A = x  [M, K]              B = w  [K, N]
//   backward_input   dx += dy · wᵀ     A = dy [M, N]              B = wᵀ (w read with strides 1, N)
//   backward_weight  dw += xᵀ · dy     A = xᵀ (x read with strides 1, K)   B = dy [M, N]
// One shader rather than three copies, so the tiling cannot drift between them.
//
// Tiling: a workgroup of WX × WY threads computes a BM × BN tile of C
// (BM = WY*TM, BN = WX*TN), stepping through the inner dimension BK at a time:
// A and B tiles are staged in workgroup memory (zero-padded past the edges),
// then each thread accumulates a TM × TN register block. A thread's rows are
// ty + r*WY and columns tx + s*WX (strided, so the reads of workgroup memory
// and the writes of C are contiguous across neighbouring threads).
// TM and TN are `const`: function-scope arrays (the register block) need a
// constant size in WGSL; the thread counts and BK are `override`s.
//
// Layout: C row-major [rows, cols] (leading dimension cols); bias [cols].
// Dispatch: (ceil(cols / BN), ceil(rows / BM)) workgroups.
// Bindings: 0 params {rows, cols, inner, a_si, a_sk, b_sk, b_sj, accumulate, has_bias: u32},
//           1 a, 2 b, 3 bias (read; bind any buffer when has_bias = 0), 4 c (read_write).
override WX: u32 = 16;
override WY: u32 = 8;
override BK: u32 = 16;
const TM: u32 = 4u;
const TN: u32 = 4u;

struct Params {
  rows: u32,
  cols: u32,
  inner: u32,
  a_si: u32,
  a_sk: u32,
  b_sk: u32,
  b_sj: u32,
  accumulate: u32,
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

var<workgroup> tileA: array<f32, WY * TM * BK>;
var<workgroup> tileB: array<f32, BK * WX * TN>;

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let p = params;
  let BM = WY * TM;
  let BN = WX * TN;
  let threads = WX * WY;
  let t = lid.y * WX + lid.x;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  // Load order follows the operand's unit stride, so consecutive threads read consecutive addresses.
  let aInnerFast = p.a_sk == 1u;
  let bColFast = p.b_sj == 1u;

  var acc: array<f32, TM * TN>;
  for (var k0 = 0u; k0 < p.inner; k0 += BK) {
    for (var e = t; e < BM * BK; e += threads) {
      let r = select(e % BM, e / BK, aInnerFast);
      let kk = select(e / BM, e % BK, aInnerFast);
      let gi = row0 + r;
      let gk = k0 + kk;
      var v = 0.0;
      if (gi < p.rows && gk < p.inner) {
        v = a[gi * p.a_si + gk * p.a_sk];
      }
      tileA[r * BK + kk] = v;
    }
    for (var e = t; e < BK * BN; e += threads) {
      let j = select(e / BK, e % BN, bColFast);
      let kk = select(e % BK, e / BN, bColFast);
      let gj = col0 + j;
      let gk = k0 + kk;
      var v = 0.0;
      if (gj < p.cols && gk < p.inner) {
        v = b[gk * p.b_sk + gj * p.b_sj];
      }
      tileB[kk * BN + j] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, TM>;
      var bv: array<f32, TN>;
      for (var r = 0u; r < TM; r++) {
        av[r] = tileA[(lid.y + r * WY) * BK + kk];
      }
      for (var s = 0u; s < TN; s++) {
        bv[s] = tileB[kk * BN + lid.x + s * WX];
      }
      for (var r = 0u; r < TM; r++) {
        for (var s = 0u; s < TN; s++) {
          acc[r * TN + s] += av[r] * bv[s];
        }
      }
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < TM; r++) {
    let gi = row0 + lid.y + r * WY;
    for (var s = 0u; s < TN; s++) {
      let gj = col0 + lid.x + s * WX;
      if (gi < p.rows && gj < p.cols) {
        var v = acc[r * TN + s];
        if (p.has_bias != 0u) {
          v += bias[gj];
        }
        let o = gi * p.cols + gj;
        if (p.accumulate != 0u) {
          c[o] += v;
        } else {
          c[o] = v;
        }
      }
    }
  }
}
