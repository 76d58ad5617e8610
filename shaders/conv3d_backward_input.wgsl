// conv3d backward with respect to the input, direct
// (accumulating; with ACCUMULATE false, = instead of +=):
//   dx[n, i, j, l, ci] += sum_{zd, zh, zw, co} dy[n, i+pd-zd, j+ph-zh, l+pw-zw, co] * w[zd, zh, zw, ci, co]
// (output positions outside dy contribute nothing): the forward convolution of dy with
// the spatially flipped, channel-transposed kernel, indexed without copying it.
//
// Blocking as conv3d_forward.wgsl: an invocation owns TP input positions (WG apart, so
// a load instruction reads consecutive positions across invocations) × TN input
// channels shared by the whole workgroup, so every weight read is uniform (one scalar
// load on a CPU driver) and each dy value read feeds TN multiply-adds. No workgroup
// memory, no barriers. Each dx element belongs to one invocation (no races).
// With VEC (Cout % 4 == 0) dy and each weight row are read four output channels at a
// time; otherwise scalar elements are read as v[i / 4][i % 4].
//
// Layouts (row-major, channels last): dy [N, OD, OH, OW, Cout], w [kd, kh, kw, Cin, Cout],
// dx [N, D, H, W, Cin]. dy, w and dx are bound as vec4 arrays, so their buffers must be sized
// to a multiple of 16 bytes.
//
// Dispatch: workgroups (ceil(Cin / TN), ceil(Mi / (WG·TP)) folded as y + z·num_workgroups.y),
//           Mi = N·D·H·W; workgroup size WG.
// Bindings: 0 params, 1 dy (read), 2 w (read), 3 dx (read_write).
override WG: u32 = 64;
override TN: u32 = 8; // input channels per invocation, multiple of 4
override TP: u32 = 4; // input positions per invocation, TP·TN <= 4·ACC_MAX
override VEC: bool = false;
// Function-scope arrays need constant sizes.
const ACC_MAX: u32 = 16u;
const TP_MAX: u32 = 8u;

// params and bindings: shared with the other conv3d backward_input shader
// #include conv3d_backward_input_io.wgsl

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

  // (i + pd, j + ph, l + pw, element offset of dy[n, 0, 0, 0, 0]); the first is -huge past Mi.
  var pos: array<vec4i, TP_MAX>;
  for (var p = 0u; p < TP; p++) {
    pos[p] = input_position(m0 + p * WG);
  }

  var acc: array<vec4f, ACC_MAX>;
  for (var i = 0u; i < TP * TN / 4u; i++) {
    acc[i] = vec4f(0.0);
  }

  var tap = 0u;
  for (var zd = 0u; zd < params.kd; zd++) {
    for (var zh = 0u; zh < params.kh; zh++) {
      for (var zw = 0u; zw < params.kw; zw++) {
        var off: array<u32, TP_MAX>;
        var inside: array<bool, TP_MAX>;
        for (var p = 0u; p < TP; p++) {
          let od = pos[p].x - i32(zd);
          let oh = pos[p].y - i32(zh);
          let ow = pos[p].z - i32(zw);
          inside[p] = od >= 0 && oh >= 0 && ow >= 0 && od < i32(params.od) && oh < i32(params.oh) && ow < i32(params.ow);
          // Outside taps read element 0 and discard it, so no invocation leaves the loop early.
          off[p] = select(0u, u32(pos[p].w) + ((u32(od) * params.oh + u32(oh)) * params.ow + u32(ow)) * params.cout, inside[p]);
        }
        // w[tap, ci, co] for the invocation's channels ci = c0 + j, clamped past Cin (never stored).
        let wrow = tap * params.cin;
        if (VEC) {
          for (var co = 0u; co < params.cout; co += 4u) {
            var a: array<vec4f, TP_MAX>;
            for (var p = 0u; p < TP; p++) {
              a[p] = select(vec4f(0.0), dy[(off[p] + co) >> 2u], inside[p]);
            }
            for (var j = 0u; j < TN; j++) {
              let wv = wt[((wrow + min(c0 + j, params.cin - 1u)) * params.cout + co) >> 2u];
              for (var p = 0u; p < TP; p++) {
                acc[p * (TN / 4u) + j / 4u][j % 4u] += dot(a[p], wv);
              }
            }
          }
        } else {
          for (var co = 0u; co < params.cout; co++) {
            var a: array<f32, TP_MAX>;
            for (var p = 0u; p < TP; p++) {
              let e = off[p] + co;
              a[p] = select(0.0, dy[e >> 2u][e & 3u], inside[p]);
            }
            for (var j = 0u; j < TN; j++) {
              let e = (wrow + min(c0 + j, params.cin - 1u)) * params.cout + co;
              let wv = wt[e >> 2u][e & 3u];
              for (var p = 0u; p < TP; p++) {
                acc[p * (TN / 4u) + j / 4u][j % 4u] += a[p] * wv;
              }
            }
          }
        }
        tap++;
      }
    }
  }

  for (var p = 0u; p < TP; p++) {
    let m = m0 + p * WG;
    if (m >= params.m) {
      continue;
    }
    for (var j = 0u; j < TN / 4u; j++) {
      store_dx4(m, c0 + 4u * j, acc[p * (TN / 4u) + j]);
    }
  }
}
