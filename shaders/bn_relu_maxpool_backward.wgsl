// Backward of bn_relu_maxpool_forward up to the batch norm's output: the pooled
// gradient goes to the window's maximum where the rectified value was positive.
//   dv[argmax[o]] += dy[o]  if y[o] > 0
// batchnorm_backward then takes dv to the gradients of x, gamma and beta.
//
// Layout: dy, y, argmax [count]; dv the size of the forward's x (zeroed by the caller).
//         dy, y and argmax are viewed as vec4s (buffers sized to a multiple of 16 bytes).
// Dispatch: one invocation per 4 pooled elements, ceil(count / 4) invocations in 1-D,
//           folded into y (grid1d). Each loads its elements as one vec4 per binding
//           and scatters them one by one; the last takes the count % 4 left over
//           one element at a time. Windows do not overlap, so no two elements share
//           an argmax.
// Bindings: 0 params {count}, 1 dy, 2 y, 3 argmax (read), 4 dv (read_write).
override WG: u32 = 64;

struct Params {
  count: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read> y: array<vec4f>;
@group(0) @binding(3) var<storage, read> argmax: array<vec4u>;
@group(0) @binding(4) var<storage, read_write> dv: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = gid.x + gid.y * nwg.x * WG;
  let o = q * 4u;
  if (o >= params.count) {
    return;
  }
  if (o + 4u <= params.count) {
    let g = dy[q];
    let pos = y[q] > vec4f(0.0);
    let at = argmax[q];
    for (var j = 0u; j < 4u; j++) {
      if (pos[j]) {
        dv[at[j]] += g[j];
      }
    }
  } else {
    for (var e = o; e < params.count; e++) {
      if (y[e >> 2u][e & 3u] > 0.0) {
        dv[argmax[e >> 2u][e & 3u]] += dy[e >> 2u][e & 3u];
      }
    }
  }
}
