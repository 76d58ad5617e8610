// conv3d forward along rows, with subgroup shuffles: an invocation owns TW consecutive
// output positions along W of one output row × 4·CV output channels.
//   y[n, od, oh, ow, co] = b[co] + sum_{zd, zh, zw, ci} x[n, od+zd-pd, oh+zh-ph, ow+zw-pw, ci] * w[zd, zh, zw, ci, co]
// (taps outside the input read zero: `same` or `valid` padding, stride 1).
//
// Why rows: the general kernels (conv3d_forward_subgroup.wgsl) load each tap once per
// position, TP·kw loads per kernel row and input channel (group), each with its own
// bounds test. Neighbouring positions of a row share all but one of their taps, so
// here the TW + KW − 1 input values of a kernel row are loaded once into registers and
// each feeds up to KW positions. That matters where a tap feeds few multiply-adds:
// the first layer (one input channel, every tap a scalar load) and narrow layers
// (8 or 16 input channels, two or four vec4 loads a tap). The weights of a tap are
// loaded once per group of 8 lanes and shared with CV shuffles, as in
// conv3d_forward_subgroup.wgsl: with one input channel lane q loads w[k, c0+4q ..
// c0+4q+3]; with VEC_A (Cin % 4 == 0) the window holds vec4s of four input channels
// and the four weight rows of a tap take 4, 2 or 1 loads (CV 8, 4, 2).
//
// Every index into the window and the accumulators is a counter of a loop with
// constant bounds (KW, TW and CV are override constants), and after each tap the window
// shifts down by one position rather than being read at p + zw. lavapipe unrolls the
// position and channel loops but not the tap loop, so p + zw is an index known only
// at run time; read that way, the first layer's forward ran 1.3× slower at width 1/8
// (docs/PERFORMANCE.md).
//
// Requires subgroups whose size is a multiple of 8 (src/kernels/gpu.ts checks it);
// shuffles stay within each aligned group of 8 lanes, and all lanes of the workgroup
// share c0.
//
// Layouts (row-major, channels last): x [N, D, H, W, Cin], w [kd, kh, kw, Cin, Cout],
// b [Cout], y [N, OD, OH, OW, Cout]. x, w and y are bound as vec4 arrays, so their buffers
// must be sized to a multiple of 16 bytes; VEC_A (Cin % 4 == 0) reads four input
// channels per load, VEC_B (Cout % 4 == 0) four weights per load.
//
// Dispatch: workgroups (ceil(Cout / (4·CV)), ceil(N·OD·OH·ceil(OW / TW) / WG) folded as
//           y + z·num_workgroups.y); workgroup size WG (a multiple of 8).
// Bindings: as conv3d_forward_subgroup.wgsl.
enable subgroups;

override WG: u32 = 64;
override TW: u32 = 4; // output positions along W per invocation, CV·TW at most ACC_MAX
override CV: u32 = 8; // vec4 groups of output channels per invocation: 8, 4 or 2
override KW: u32 = 5; // the kernel's width (= params.kw)
override RPL: u32 = 8u / CV; // weight rows per load; not set by the host
override VEC_A: bool = false;
override VEC_B: bool = false;
// Function-scope arrays need constant sizes.
const TW_MAX: u32 = 32u;
const KW_MAX: u32 = 7u;
const ACC_MAX: u32 = 64u;

// params, bindings and w_row4: shared with the other conv3d forward shaders
// #include conv3d_forward_io.wgsl

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let blocks = (params.ow + TW - 1u) / TW; // position blocks per output row
  let rows = params.n * params.od * params.oh;
  let g = (wid.y + wid.z * nwg.y) * WG + lid;
  let live = g < rows * blocks; // past the end: compute on row 0, store nothing
  let gg = select(0u, g, live);
  let row = gg / blocks;
  let ow0 = (gg % blocks) * TW;
  let oh = row % params.oh;
  let od = (row / params.oh) % params.od;
  let n = row / (params.oh * params.od);
  let c0 = wid.x * 4u * CV;
  let group = lane & ~7u;
  let q8 = lane & 7u; // this lane's place in its group
  let c_load = c0 + 4u * (q8 % CV); // the 4 channels whose weights and biases this lane loads

  // The biases of the workgroup's 4·CV channels start every sum: lane q of each group
  // of 8 loads those of channels c_load .. c_load + 3 (clamped past Cout, never stored)
  // and every lane takes the CV vec4s by shuffles, rather than loading one bias per
  // output it stores.
  let bl = bias4(c_load);
  var acc: array<vec4f, ACC_MAX>;
  for (var j = 0u; j < CV; j++) {
    let b = subgroupShuffle(bl, group + j);
    for (var p = 0u; p < TW; p++) {
      acc[p * CV + j] = b;
    }
  }

  var k = 0u; // row of w of tap (zd, zh, 0), input channel 0
  for (var zd = 0u; zd < params.kd; zd++) {
    for (var zh = 0u; zh < params.kh; zh++) {
      let id = i32(od + zd) - i32(params.pd);
      let ih = i32(oh + zh) - i32(params.ph);
      let row_in = id >= 0 && ih >= 0 && id < i32(params.d) && ih < i32(params.h);
      // Outside rows and columns read a clamped element and discard it.
      let base = ((n * params.d + u32(clamp(id, 0, i32(params.d) - 1))) * params.h + u32(clamp(ih, 0, i32(params.h) - 1))) * params.w;
      if (VEC_A) {
        for (var ci = 0u; ci < params.cin; ci += 4u) {
          // The input window of this kernel row, channels ci .. ci+3: W positions
          // ow0 − pw .. ow0 − pw + TW + KW − 2, one vec4 load each.
          var xr: array<vec4f, TW_MAX + KW_MAX - 1u>;
          for (var i = 0u; i < TW + KW - 1u; i++) {
            let iw = i32(ow0 + i) - i32(params.pw);
            let inside = row_in && iw >= 0 && iw < i32(params.w);
            let e = (base + u32(clamp(iw, 0, i32(params.w) - 1))) * params.cin + ci;
            xr[i] = select(vec4f(0.0), x[e >> 2u], inside);
          }
          for (var zw = 0u; zw < KW; zw++) {
            // Rows kk .. kk+3 of w (tap zw, channels ci .. ci+3), in 4, 2 or 1 loads
            // (CV 8, 4, 2; conv3d_forward_io.wgsl): row r, channels c0 + 4j .. are in
            // l[r / RPL] at lane (r % RPL)·CV + j.
            let kk = k + zw * params.cin + ci;
            let l = w_rows4_grouped(kk, c_load, q8, CV);
            for (var j = 0u; j < CV; j++) {
              let w0 = subgroupShuffle(l[0], group + j);
              let w1 = subgroupShuffle(l[1], group + (1u % RPL) * CV + j);
              let w2 = subgroupShuffle(l[2], group + (2u % RPL) * CV + j);
              let w3 = subgroupShuffle(l[3], group + (3u % RPL) * CV + j);
              for (var p = 0u; p < TW; p++) {
                let a = xr[p];
                acc[p * CV + j] += a.x * w0 + a.y * w1 + a.z * w2 + a.w * w3;
              }
            }
            // The window shifts by one position for the next tap (see the top of the file).
            for (var i = 0u; i + 1u < TW + KW - 1u; i++) {
              xr[i] = xr[i + 1u];
            }
          }
        }
      } else {
        for (var ci = 0u; ci < params.cin; ci++) {
          // The input window of this kernel row, channel ci: W positions
          // ow0 − pw .. ow0 − pw + TW + KW − 2.
          var xr: array<f32, TW_MAX + KW_MAX - 1u>;
          for (var i = 0u; i < TW + KW - 1u; i++) {
            let iw = i32(ow0 + i) - i32(params.pw);
            let inside = row_in && iw >= 0 && iw < i32(params.w);
            let e = (base + u32(clamp(iw, 0, i32(params.w) - 1))) * params.cin + ci;
            xr[i] = select(0.0, x[e >> 2u][e & 3u], inside);
          }
          // Tap zw of this kernel row: lane q loads the weights of channels
          // c0 + 4 (q % CV) .. + 3 and the group hands them round by shuffles. The window
          // shifts by one position after each tap, so every index into xr and acc is
          // a counter of an unrolled loop (registers, not a dynamically indexed array).
          for (var zw = 0u; zw < KW; zw++) {
            let l = w_row4(k + zw * params.cin + ci, c_load);
            for (var j = 0u; j < CV; j++) {
              let wv = subgroupShuffle(l, group + j);
              for (var p = 0u; p < TW; p++) {
                acc[p * CV + j] += xr[p] * wv;
              }
            }
            for (var i = 0u; i + 1u < TW + KW - 1u; i++) {
              xr[i] = xr[i + 1u];
            }
          }
        }
      }
      k += KW * params.cin;
    }
  }

  if (!live) {
    return;
  }
  for (var p = 0u; p < TW; p++) {
    let ow = ow0 + p;
    if (ow >= params.ow) {
      continue;
    }
    let m = row * params.ow + ow;
    for (var j = 0u; j < CV; j++) {
      store_y4(m, c0 + 4u * j, acc[p * CV + j]);
    }
  }
}
