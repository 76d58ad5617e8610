// Backward of bn_relu_maxpool_forward up to the batch norm's output: the pooled
// gradient goes to the window's maximum where the rectified value was positive.
//   dv[argmax[o]] += dy[o]  if y[o] > 0
// batchnorm_backward then takes dv to the gradients of x, gamma and beta.
//
// Layout: dy, y, argmax [count]; dv the size of the forward's x (zeroed by the caller).
// Dispatch: one invocation per pooled element, ceil(count / WG) workgroups (grid1d).
// Bindings: 0 params {count}, 1 dy, 2 y, 3 argmax (read), 4 dv (read_write).
override WG: u32 = 256;

struct Params {
  count: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> argmax: array<u32>;
@group(0) @binding(4) var<storage, read_write> dv: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * WG;
  if (o >= params.count) {
    return;
  }
  if (y[o] > 0.0) {
    let i = argmax[o];
    dv[i] += dy[o];
  }
}
