// conv3d backward with respect to the weights and bias, direct, split over positions:
//   dw[zd, zh, zw, ci, co] = sum_{n, od, oh, ow} x[n, od+zd-pd, oh+zh-ph, ow+zw-pw, ci] * dy[n, od, oh, ow, co]
//   db[co]                 = sum_{n, od, oh, ow} dy[n, od, oh, ow, co]
//
// GEMM view: G[K+1, Cout] = A[K+1, P] · dY[P, Cout], with K = kd·kh·kw·Cin weight rows
// plus one row of ones (its product is db), P = N·OD·OH·OW output positions (the
// reduction), A[k, p] = the input tap of position p at kernel offset k (zero outside x).
//
// Blocking: a workgroup owns TK consecutive rows of G and 4·WG output channels;
// invocation l owns the TK rows × channels 4l..4l+3 (as vec4 accumulators). The
// position loop and the rows are the same in every invocation, so the position decode,
// the tap bounds checks and every x read are uniform (one scalar load on a CPU driver);
// each invocation reads its own dy vec4 (consecutive across invocations), which feeds
// TK multiply-adds per channel. No workgroup memory, no barriers.
// With VEC_A (Cin % 4 == 0) rows come in groups of four channels of one tap, read as
// one vec4 with one bounds check; with VEC_B (Cout % 4 == 0) dy is read as vec4.
//
// P is large and K·Cout can be small, so the reduction is split: workgroup z sums
// positions [z·tiles_per_split·PT, (z+1)·tiles_per_split·PT) and writes its partial G
// to partial[z]; conv3d_backward_reduce adds the partials into dw and db.
//
// Layouts (row-major, channels last): x [N, D, H, W, Cin], dy [N, OD, OH, OW, Cout],
// partial [splits, K+1, Cout]. x and dy are bound as vec4 arrays, so their buffers must
// be sized to a multiple of 16 bytes; scalar elements are read as v[i / 4][i % 4].
//
// Dispatch: workgroups (ceil(Cout / (4·WG)), ceil((K+1) / TK), splits); workgroup size WG.
// Bindings: 0 params, 1 dy (read), 2 x (read), 3 partial (read_write).
override WG: u32 = 16;
override TK: u32 = 8; // rows per workgroup, multiple of 4, at most TK_MAX
override PT: u32 = 16; // positions per split tile
override VEC_A: bool = false;
override VEC_B: bool = false;
// Function-scope arrays need constant sizes.
const TK_MAX: u32 = 16u;

struct Params {
  n: u32, d: u32, h: u32, w: u32, cin: u32,
  od: u32, oh: u32, ow: u32, cout: u32,
  kd: u32, kh: u32, kw: u32,
  pd: u32, ph: u32, pw: u32,
  m: u32, k: u32,
  tiles_per_split: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read> x: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

// output_position, input_position, decode_tap: shared with the other conv3d shaders
// #include conv3d_common.wgsl

// Element offset of x[n, pos + tap, ci] and whether it lies inside x.
fn x_at(base: u32, pos: vec3i, t: Tap) -> vec2u {
  let i = pos + t.off;
  let inside = all(i >= vec3i(0)) && all(i < vec3i(i32(params.d), i32(params.h), i32(params.w)));
  let o = base + ((u32(i.x) * params.h + u32(i.y)) * params.w + u32(i.z)) * params.cin + t.ci;
  return vec2u(select(0u, o, inside), u32(inside));
}

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3u,
) {
  let row0 = wid.y * TK;
  let c = (wid.x * WG + lid) * 4u;
  let rows = params.k + 1u;
  let p_begin = wid.z * params.tiles_per_split * PT;
  let p_end = min(params.m, p_begin + params.tiles_per_split * PT);

  var taps: array<Tap, TK_MAX>;
  for (var r = 0u; r < TK; r++) {
    taps[r] = decode_tap(row0 + r);
  }
  var acc: array<vec4f, TK_MAX>;
  for (var r = 0u; r < TK; r++) {
    acc[r] = vec4f(0.0);
  }

  // (od, oh, ow) and n of position p, advanced by one each step (conv3d_common.wgsl).
  var walk = walk_start(min(p_begin, params.m - 1u));
  for (var p = p_begin; p < p_end; p++) {
    let pos = walk.pos;
    let n = walk.n;
    let base = n * params.d * params.h * params.w * params.cin;
    var g: vec4f; // dY[p, c..c+3]; channels past Cout are clamped (never stored)
    let i = p * params.cout;
    if (VEC_B) {
      g = dy[(i + min(c, params.cout - 4u)) >> 2u];
    } else {
      for (var j = 0u; j < 4u; j++) {
        let e = i + min(c + j, params.cout - 1u);
        g[j] = dy[e >> 2u][e & 3u];
      }
    }
    if (VEC_A) {
      for (var r = 0u; r < TK; r += 4u) {
        let o = x_at(base, pos, taps[r]);
        var a = select(vec4f(0.0), x[o.x >> 2u], o.y != 0u);
        a = select(a, vec4f(f32(taps[r].kind == 1u), 0.0, 0.0, 0.0), taps[r].kind != 0u);
        for (var j = 0u; j < 4u; j++) {
          acc[r + j] += a[j] * g;
        }
      }
    } else {
      for (var r = 0u; r < TK; r++) {
        let o = x_at(base, pos, taps[r]);
        var a = select(0.0, x[o.x >> 2u][o.x & 3u], o.y != 0u);
        a = select(a, f32(taps[r].kind == 1u), taps[r].kind != 0u);
        acc[r] += a * g;
      }
    }
    walk = walk_next(walk);
  }

  // Every split writes its whole block (zeros where it had no positions), so the
  // reduction needs no clearing.
  let split_base = wid.z * rows * params.cout;
  for (var r = 0u; r < TK; r++) {
    let row = row0 + r;
    if (row >= rows) {
      continue;
    }
    for (var j = 0u; j < 4u; j++) {
      if (c + j < params.cout) {
        partial[split_base + row * params.cout + c + j] = acc[r][j];
      }
    }
  }
}
