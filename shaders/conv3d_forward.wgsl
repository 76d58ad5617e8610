// conv3d forward, direct: one invocation per output position, TN output channels each.
//   y[n, od, oh, ow, co] = b[co] + sum_{zd, zh, zw, ci} x[n, od+zd-pd, oh+zh-ph, ow+zw-pw, ci] * w[zd, zh, zw, ci, co]
// (taps that fall outside the input read zero: `same` or `valid` padding, stride 1).
//
// No workgroup memory and no barriers. All invocations of a workgroup share the same
// TN channels, so every weight read has the same address in every invocation (a
// uniform load: one scalar load on a CPU driver, a broadcast from cache on a GPU),
// while each invocation reads its own input taps: consecutive invocations are
// consecutive output positions. Each input value read is used for TN multiply-adds.
// Loops run over taps outside and input channels inside, so the tap's bounds check
// and address happen once per tap, not per element.
//
// Layouts (row-major, channels last): x [N, D, H, W, Cin], w [kd, kh, kw, Cin, Cout],
// b [Cout], y [N, OD, OH, OW, Cout]. x, w and y are bound as vec4 arrays, so their buffers
// must be sized to a multiple of 16 bytes; VEC_A (Cin % 4 == 0) reads four input
// channels per load, VEC_B (Cout % 4 == 0) four weights per load; otherwise scalar
// elements are read as v[i / 4][i % 4].
//
// Dispatch: workgroups (ceil(Cout / TN), ceil(M / WG) folded as y + z·num_workgroups.y),
//           M = N·OD·OH·OW; workgroup size WG (output positions).
// Bindings: 0 params, 1 x (read), 2 w (read), 3 b (read; unused when has_bias = 0),
//           4 y (read_write).
override WG: u32 = 64;
override TN: u32 = 16; // output channels per invocation, multiple of 4
override TP: u32 = 2;  // output positions per invocation, TP·TN <= 4·ACC_MAX
override VEC_A: bool = false;
override VEC_B: bool = false;
// Function-scope arrays need constant sizes.
const ACC_MAX: u32 = 16u;
const TP_MAX: u32 = 8u;

// params, bindings and w_row4: shared with the other conv3d forward shader
// #include conv3d_forward_io.wgsl

// output_position, input_position, decode_tap: shared with the other conv3d shaders
// #include conv3d_common.wgsl

@compute @workgroup_size(WG)
fn main(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let m0 = (wid.y + wid.z * nwg.y) * WG * TP + lid;
  let c0 = wid.x * TN;

  // Output position p of this invocation is m0 + p·WG, so each load instruction
  // still reads consecutive positions across invocations.
  var pos: array<vec4i, TP_MAX>; // (od, oh, ow, element offset of x[n, 0, 0, 0, 0]); od = -huge past M
  for (var p = 0u; p < TP; p++) {
    pos[p] = output_position(m0 + p * WG);
  }

  // acc[p·TN/4 + j] holds channels c0 + 4j .. c0 + 4j + 3 of position p; each sum starts at the bias.
  var acc: array<vec4f, ACC_MAX>;
  for (var j = 0u; j < TN / 4u; j++) {
    let b = bias4(c0 + 4u * j);
    for (var p = 0u; p < TP; p++) {
      acc[p * (TN / 4u) + j] = b;
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
            for (var j = 0u; j < TN / 4u; j++) {
              let c = c0 + j * 4u;
              let w0 = w_row4(k, c);
              let w1 = w_row4(k + 1u, c);
              let w2 = w_row4(k + 2u, c);
              let w3 = w_row4(k + 3u, c);
              for (var p = 0u; p < TP; p++) {
                acc[p * (TN / 4u) + j] += a[p].x * w0 + a[p].y * w1 + a[p].z * w2 + a[p].w * w3;
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
            for (var j = 0u; j < TN / 4u; j++) {
              let wv = w_row4(krow + ci, c0 + j * 4u);
              for (var p = 0u; p < TP; p++) {
                acc[p * (TN / 4u) + j] += a[p] * wv;
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
    for (var j = 0u; j < TN / 4u; j++) {
      store_y4(m, c0 + 4u * j, acc[p * (TN / 4u) + j]);
    }
  }
}
