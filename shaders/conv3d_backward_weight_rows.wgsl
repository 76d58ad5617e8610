// conv3d backward with respect to the weights and bias for a single input channel (the
// network's first layer), along rows of output positions, split over chunks of rows:
//   dw[zd, zh, zw, 0, co] = sum_{n, od, oh, ow} x[n, od+zd-pd, oh+zh-ph, ow+zw-pw] * dy[n, od, oh, ow, co]
//   db[co]                = sum_{n, od, oh, ow} dy[n, od, oh, ow, co]
//
// Why rows: with one input channel each tap is a scalar load, and the general kernel
// (conv3d_backward_weight_subgroup.wgsl) loads every tap of every position: 25 loads
// with their bounds tests per position for a 5×5 kernel. Here an invocation owns all
// TAPS = KD·KH·KW taps (plus the bias) of 4 output channels and walks along output rows:
// the taps of position ow + 1 are those of ow shifted by one column, so each step loads
// one new input value per kernel row (KD·KH scalar loads) and one vec4 of dY, and
// feeds them to TAPS + 1 vec4 multiply-adds. KD, KH and KW are override constants so
// that the window and the accumulators are indexed by constants only.
//
// No shuffles or workgroup memory: it runs on any device.
//
// Invocation g owns output channels 4·(g % cblocks) .. + 3 and the output rows
// (n, od, oh) of chunk g / cblocks, rows_per_chunk of them, and writes its chunk's
// partial sums; conv3d_backward_reduce adds the chunks into dw and db. Partial sums
// are written for every row of G, so the reduction needs no clearing.
//
// Layouts (row-major, channels last): x [N, D, H, W, 1], dy [N, OD, OH, OW, Cout],
// partial [chunks, K+1, Cout] with K = TAPS (row K: the bias). x and dy are bound as
// vec4 arrays, so their buffers must be sized to a multiple of 16 bytes; VEC_B
// (Cout % 4 == 0) reads dY four channels per load.
//
// Dispatch: ceil(chunks · cblocks / WG) workgroups in 1-D, folded into y past the
//           per-dimension limit (grid1d); workgroup size WG.
// Bindings: 0 params, 1 dy (read), 2 x (read), 3 partial (read_write).
override WG: u32 = 64;
override KD: u32 = 1;
override KH: u32 = 5;
override KW: u32 = 5;
override VEC_B: bool = false;
// Function-scope arrays need constant sizes: TAPS at most ACC_MAX - 1 (one for the bias).
const ACC_MAX: u32 = 32u;
const ROWS_MAX: u32 = 16u; // KD·KH

struct Params {
  n: u32, d: u32, h: u32, w: u32, cin: u32,
  od: u32, oh: u32, ow: u32, cout: u32,
  kd: u32, kh: u32, kw: u32,
  pd: u32, ph: u32, pw: u32,
  m: u32, k: u32,
  rows: u32, // N·OD·OH
  rows_per_chunk: u32,
  chunks: u32,
  cblocks: u32, // ceil(Cout / 4)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read> x: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

// x at column iw of the input row starting at element `base`, zero outside the row or
// when the row itself lies outside x.
fn x_at(base: u32, row_ok: bool, iw: i32) -> f32 {
  let inside = row_ok && iw >= 0 && iw < i32(params.w);
  let e = base + u32(clamp(iw, 0, i32(params.w) - 1));
  return select(0.0, x[e >> 2u][e & 3u], inside);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = gid.x + gid.y * nwg.x * WG;
  let live = g < params.chunks * params.cblocks; // past the end: compute chunk 0 again, store nothing
  let gg = select(0u, g, live);
  let c = (gg % params.cblocks) * 4u; // this invocation's 4 channels (past Cout: clamped, never stored)
  let chunk = gg / params.cblocks;
  let taps = KD * KH * KW;

  var acc: array<vec4f, ACC_MAX>; // acc[t] for tap t = (zd·KH + zh)·KW + zw; acc[taps]: the bias
  for (var t = 0u; t <= taps; t++) {
    acc[t] = vec4f(0.0);
  }

  let row_end = min(params.rows, (chunk + 1u) * params.rows_per_chunk);
  for (var row = chunk * params.rows_per_chunk; row < row_end; row++) {
    let oh = row % params.oh;
    let od = (row / params.oh) % params.od;
    let n = row / (params.oh * params.od);
    // Each kernel row's input row: its first element and whether it lies inside x.
    var base: array<u32, ROWS_MAX>;
    var row_ok: array<bool, ROWS_MAX>;
    for (var zd = 0u; zd < KD; zd++) {
      for (var zh = 0u; zh < KH; zh++) {
        let id = i32(od + zd) - i32(params.pd);
        let ih = i32(oh + zh) - i32(params.ph);
        row_ok[zd * KH + zh] = id >= 0 && ih >= 0 && id < i32(params.d) && ih < i32(params.h);
        base[zd * KH + zh] = ((n * params.d + u32(clamp(id, 0, i32(params.d) - 1))) * params.h + u32(clamp(ih, 0, i32(params.h) - 1))) * params.w;
      }
    }
    // The window xr[r·KW + zw] = x at column ow + zw − pw of kernel row r; before the
    // first step it holds columns −pw .. KW − 2 − pw in places 1 .. KW − 1, and each
    // step shifts it left by one and loads the new last column.
    var xr: array<f32, ACC_MAX>;
    for (var r = 0u; r < KD * KH; r++) {
      for (var zw = 0u; zw + 1u < KW; zw++) {
        xr[r * KW + zw + 1u] = x_at(base[r], row_ok[r], i32(zw) - i32(params.pw));
      }
    }
    let dy_row = row * params.ow * params.cout;
    for (var ow = 0u; ow < params.ow; ow++) {
      for (var r = 0u; r < KD * KH; r++) {
        for (var zw = 0u; zw + 1u < KW; zw++) {
          xr[r * KW + zw] = xr[r * KW + zw + 1u];
        }
        xr[r * KW + KW - 1u] = x_at(base[r], row_ok[r], i32(ow + KW - 1u) - i32(params.pw));
      }
      let i = dy_row + ow * params.cout;
      var gv: vec4f;
      if (VEC_B) {
        gv = dy[(i + c) >> 2u];
      } else {
        for (var j = 0u; j < 4u; j++) {
          let e = i + min(c + j, params.cout - 1u);
          gv[j] = dy[e >> 2u][e & 3u];
        }
      }
      for (var t = 0u; t < taps; t++) {
        acc[t] += xr[t] * gv;
      }
      acc[taps] += gv;
    }
  }

  if (!live) {
    return;
  }
  let chunk_base = chunk * (taps + 1u) * params.cout;
  for (var t = 0u; t <= taps; t++) {
    for (var j = 0u; j < 4u; j++) {
      if (c + j < params.cout) {
        partial[chunk_base + t * params.cout + c + j] = acc[t][j];
      }
    }
  }
}
