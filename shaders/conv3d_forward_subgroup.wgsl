// conv3d forward with subgroup shuffles: TP output positions × 4·CV output channels per invocation.
//   y[n, od, oh, ow, co] = b[co] + sum_{zd, zh, zw, ci} x[n, od+zd-pd, oh+zh-ph, ow+zw-pw, ci] * w[zd, zh, zw, ci, co]
// (taps that fall outside the input read zero: `same` or `valid` padding, stride 1).
//
// Why shuffles: every invocation of a workgroup needs the same weights (the workgroup
// shares one block of 32 output channels), but a load instruction costs the same
// whether its address is shared or not on a CPU driver (lavapipe turns any load whose
// address is not a compile-time constant into 8 per-lane scalar loads with bounds
// checks). So the weights of one kernel row are loaded once per 8 lanes: lane q of
// each group of 8 loads the vec4 w[k, c0+4q .. c0+4q+3], and every lane obtains the
// row's 4·CV weights with CV shuffles (one vpermd per component on lavapipe, a
// register exchange on a GPU). Each invocation still loads its own input taps, and
// each tap value feeds 4·CV multiply-adds. No workgroup memory, no barriers.
//
// CV (vec4 channel groups per invocation: 8, 4 or 2) follows Cout: a layer of 8 or 16
// output channels runs with CV 2 or 4 and correspondingly more positions TP, instead
// of computing 32 channels and storing a quarter or half of them; the lanes of a group
// then load 8 / CV weight rows at once (with VEC_A), so no load fetches weights nobody
// reads.
//
// Requires subgroups whose size is a multiple of 8 (src/kernels/gpu.ts checks it);
// shuffles stay within each aligned group of 8 lanes, and all lanes of the workgroup
// share c0, so the result does not depend on how invocations map to subgroups.
//
// Layouts (row-major, channels last): x [N, D, H, W, Cin], w [kd, kh, kw, Cin, Cout],
// b [Cout], y [N, OD, OH, OW, Cout]. x, w and y are bound as vec4 arrays, so their buffers
// must be sized to a multiple of 16 bytes; VEC_A (Cin % 4 == 0) reads four input
// channels per load, VEC_B (Cout % 4 == 0) four weights per load; otherwise scalar
// elements are read as v[i / 4][i % 4].
//
// Dispatch: workgroups (ceil(Cout / (4·CV)), ceil(M / (WG·TP)) folded as y + z·num_workgroups.y),
//           M = N·OD·OH·OW; workgroup size WG (a multiple of 8).
// Bindings: 0 params, 1 x (read), 2 w (read), 3 b (read; unused when has_bias = 0),
//           4 y (read_write).
enable subgroups;

override WG: u32 = 64;
override TP: u32 = 3; // output positions per invocation, at most TP_MAX, CV·TP at most ACC_MAX
override CV: u32 = 8; // vec4 groups of output channels per invocation: 8, 4 or 2
override RPL: u32 = 8u / CV; // rows of w per weight load (VEC_A); not set by the host
override VEC_A: bool = false;
override VEC_B: bool = false;
// A 1×1×1 kernel without padding (conv5, Winograd's GEMMs): output position m reads
// input position m, so no position is decoded (three integer divisions per position and
// lane, which x86 does one lane at a time).
override POINTWISE: bool = false;
// Function-scope arrays need constant sizes.
const TP_MAX: u32 = 8u;
const ACC_MAX: u32 = 32u;

// params, bindings and w_row4: shared with the other conv3d forward shader
// #include conv3d_forward_io.wgsl

// output_position, input_position, decode_tap: shared with the other conv3d shaders
// #include conv3d_common.wgsl

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let m0 = (wid.y + wid.z * nwg.y) * WG * TP + lid;
  let c0 = wid.x * 4u * CV; // first of the workgroup's 4·CV output channels
  let group = lane & ~7u; // first lane of this lane's group of 8
  let q8 = lane & 7u; // this lane's place in its group
  let c_load = c0 + 4u * (q8 % CV); // the 4 channels whose weights and biases this lane loads

  // Output position p of this invocation is m0 + p·WG, so each load instruction
  // reads consecutive positions across invocations.
  var pos: array<vec4i, TP_MAX>; // (od, oh, ow, element offset of x[n, 0, 0, 0, 0]); od = -huge past M
  for (var p = 0u; p < TP; p++) {
    let m = m0 + p * WG;
    if (POINTWISE) {
      pos[p] = vec4i(select(-0x40000000, 0, m < params.m), 0, 0, i32(min(m, params.m - 1u) * params.cin));
    } else {
      pos[p] = output_position(m);
    }
  }

  // The biases of the workgroup's 4·CV channels start every sum: lane q of each group
  // of 8 loads those of channels c_load .. c_load + 3 (clamped past Cout, never stored)
  // and every lane takes the CV vec4s by shuffles, rather than loading one bias per
  // output it stores.
  let bl = bias4(c_load);
  // acc[p·CV + j] holds channels c0 + 4j .. c0 + 4j + 3 of position p.
  var acc: array<vec4f, ACC_MAX>;
  for (var j = 0u; j < CV; j++) {
    let b = subgroupShuffle(bl, group + j);
    for (var p = 0u; p < TP; p++) {
      acc[p * CV + j] = b;
    }
  }

  var krow = 0u; // row of w (= k) of the current tap's first input channel
  for (var zd = 0u; zd < params.kd; zd++) {
    for (var zh = 0u; zh < params.kh; zh++) {
      for (var zw = 0u; zw < params.kw; zw++) {
        var xoff: array<u32, TP_MAX>;
        var inside: array<bool, TP_MAX>;
        for (var p = 0u; p < TP; p++) {
          let id = pos[p].x + i32(zd) - i32(params.pd);
          let ih = pos[p].y + i32(zh) - i32(params.ph);
          let iw = pos[p].z + i32(zw) - i32(params.pw);
          inside[p] = id >= 0 && ih >= 0 && iw >= 0 && id < i32(params.d) && ih < i32(params.h) && iw < i32(params.w);
          // Outside taps read element 0 and discard it, so no invocation leaves the loop early.
          xoff[p] = select(0u, u32(pos[p].w) + ((u32(id) * params.h + u32(ih)) * params.w + u32(iw)) * params.cin, inside[p]);
        }
        if (VEC_A) {
          for (var ci = 0u; ci < params.cin; ci += 4u) {
            var a: array<vec4f, TP_MAX>;
            for (var p = 0u; p < TP; p++) {
              a[p] = select(vec4f(0.0), x[(xoff[p] + ci) >> 2u], inside[p]);
            }
            let k = krow + ci;
            // Rows k .. k+3 of w, 4·CV channels each, in 4, 2 or 1 loads (CV 8, 4, 2;
            // conv3d_forward_io.wgsl): row r, channels c0 + 4j .. are in l[r / RPL] at
            // lane (r % RPL)·CV + j.
            let l = w_rows4_grouped(k, c_load, q8, CV);
            for (var j = 0u; j < CV; j++) {
              let w0 = subgroupShuffle(l[0], group + j);
              let w1 = subgroupShuffle(l[1], group + (1u % RPL) * CV + j);
              let w2 = subgroupShuffle(l[2], group + (2u % RPL) * CV + j);
              let w3 = subgroupShuffle(l[3], group + (3u % RPL) * CV + j);
              for (var p = 0u; p < TP; p++) {
                acc[p * CV + j] += a[p].x * w0 + a[p].y * w1 + a[p].z * w2 + a[p].w * w3;
              }
            }
          }
        } else {
          for (var ci = 0u; ci < params.cin; ci++) {
            var a: array<f32, TP_MAX>;
            for (var p = 0u; p < TP; p++) {
              let e = xoff[p] + ci;
              a[p] = select(0.0, x[e >> 2u][e & 3u], inside[p]);
            }
            let l = w_row4(krow + ci, c_load);
            for (var j = 0u; j < CV; j++) {
              let wv = subgroupShuffle(l, group + j);
              for (var p = 0u; p < TP; p++) {
                acc[p * CV + j] += a[p] * wv;
              }
            }
          }
        }
        krow += params.cin;
      }
    }
  }

  for (var p = 0u; p < TP; p++) {
    let m = m0 + p * WG;
    if (m >= params.m) {
      continue;
    }
    for (var j = 0u; j < CV; j++) {
      store_y4(m, c0 + 4u * j, acc[p * CV + j]);
    }
  }
}
