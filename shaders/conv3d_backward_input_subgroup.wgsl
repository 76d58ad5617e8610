// conv3d backward with respect to the input, with subgroup shuffles
// (accumulating; with ACCUMULATE false, = instead of +=):
//   dx[n, i, j, l, ci] += sum_{zd, zh, zw, co} dy[n, i+pd-zd, j+ph-zh, l+pw-zw, co] * w[zd, zh, zw, ci, co]
// (output positions outside dy contribute nothing): the forward convolution of dy with
// the spatially flipped, channel-transposed kernel, indexed without copying it.
//
// Blocking as conv3d_forward_subgroup.wgsl: an invocation owns TP input positions (WG
// apart) × the workgroup's 4·CV input channels (CV 8, 4 or 2, following Cin). The
// weights w[tap, ci, co..co+3] of those channels are loaded once per group of 8 lanes —
// lane q loads those of channels c0+4q .. c0+4q+3 — and shared with CV shuffles; each
// invocation loads its own dy values, and each dy vec4 feeds 4·CV four-term dot
// products. No workgroup memory, no barriers; each dx element belongs to one
// invocation (no races).
// With VEC (Cout % 4 == 0) dy and each weight row are read four output channels at a
// time; otherwise scalar elements are read as v[i / 4][i % 4].
//
// Requires subgroups whose size is a multiple of 8 (src/kernels/gpu.ts checks it).
//
// Layouts (row-major, channels last): dy [N, OD, OH, OW, Cout], w [kd, kh, kw, Cin, Cout],
// dx [N, D, H, W, Cin]. dy, w and dx are bound as vec4 arrays, so their buffers must be sized
// to a multiple of 16 bytes.
//
// Dispatch: workgroups (ceil(Cin / (4·CV)), ceil(Mi / (WG·TP)) folded as y + z·num_workgroups.y),
//           Mi = N·D·H·W; workgroup size WG (a multiple of 8).
// Bindings: 0 params, 1 dy (read), 2 w (read), 3 dx (read_write).
enable subgroups;

override WG: u32 = 64;
override TP: u32 = 3; // input positions per invocation, at most TP_MAX, CV·TP at most ACC_MAX
override CV: u32 = 8; // vec4 groups of input channels per invocation: 8, 4 or 2
override VEC: bool = false;
// Function-scope arrays need constant sizes.
const TP_MAX: u32 = 8u;
const ACC_MAX: u32 = 32u;

// params and bindings: shared with the other conv3d backward_input shader
// #include conv3d_backward_input_io.wgsl

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
  let c0 = wid.x * 4u * CV; // first of the workgroup's 4·CV input channels
  let c_load = c0 + 4u * (lane & 7u); // the 4 input channels whose weights this lane loads
  let group = lane & ~7u; // first lane of this lane's group of 8

  // (i + pd, j + ph, l + pw, element offset of dy[n, 0, 0, 0, 0]); the first is -huge past Mi.
  var pos: array<vec4i, TP_MAX>;
  for (var p = 0u; p < TP; p++) {
    pos[p] = input_position(m0 + p * WG);
  }

  // acc[p·CV + j] holds input channels c0 + 4j .. c0 + 4j + 3 of position p.
  var acc: array<vec4f, ACC_MAX>;
  for (var i = 0u; i < CV * TP; i++) {
    acc[i] = vec4f(0.0);
  }

  // Rows of w this lane loads: (tap, c_load + q) for q < 4, clamped past Cin (never stored).
  var wrow = vec4u(min(c_load, params.cin - 1u), min(c_load + 1u, params.cin - 1u), min(c_load + 2u, params.cin - 1u), min(c_load + 3u, params.cin - 1u));
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
        let wbase = wrow * params.cout; // element offsets of this lane's four weight rows
        if (VEC) {
          for (var co = 0u; co < params.cout; co += 4u) {
            var a: array<vec4f, TP_MAX>;
            for (var p = 0u; p < TP; p++) {
              a[p] = select(vec4f(0.0), dy[(off[p] + co) >> 2u], inside[p]);
            }
            let l0 = wt[(wbase.x + co) >> 2u];
            let l1 = wt[(wbase.y + co) >> 2u];
            let l2 = wt[(wbase.z + co) >> 2u];
            let l3 = wt[(wbase.w + co) >> 2u];
            for (var j = 0u; j < CV; j++) {
              let v0 = subgroupShuffle(l0, group + j);
              let v1 = subgroupShuffle(l1, group + j);
              let v2 = subgroupShuffle(l2, group + j);
              let v3 = subgroupShuffle(l3, group + j);
              for (var p = 0u; p < TP; p++) {
                acc[p * CV + j] += vec4f(dot(a[p], v0), dot(a[p], v1), dot(a[p], v2), dot(a[p], v3));
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
            let e = wbase + co;
            let l = vec4f(wt[e.x >> 2u][e.x & 3u], wt[e.y >> 2u][e.y & 3u], wt[e.z >> 2u][e.z & 3u], wt[e.w >> 2u][e.w & 3u]);
            for (var j = 0u; j < CV; j++) {
              let wv = subgroupShuffle(l, group + j);
              for (var p = 0u; p < TP; p++) {
                acc[p * CV + j] += a[p] * wv;
              }
            }
          }
        }
        wrow += vec4u(params.cin);
      }
    }
  }

  for (var p = 0u; p < TP; p++) {
    let m = m0 + p * WG;
    if (m >= params.m) {
      continue;
    }
    for (var j = 0u; j < CV; j++) {
      store_dx4(m, c0 + 4u * j, acc[p * CV + j]);
    }
  }
}
