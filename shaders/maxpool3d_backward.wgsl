// 3-D max pooling backward: dx[argmax[o]] += dy[o] for every output element o.
//
// Windows equal strides, so they do not overlap and no two outputs share an
// argmax: each thread owns the dx element it adds to, and no atomics are needed.
// Elements of dx that were no window's maximum (or lie in the dropped remainder)
// receive nothing.
//
// Layout: dy and argmax [N, OD, OH, OW, C] (argmax: flat u32 index into x), dx [N, D, H, W, C].
// Dispatch: one thread per output element, ceil(count / WG) in 1-D, folded into y (grid1d).
// Bindings: 0 params {count: u32}, 1 dy (read), 2 argmax (read, u32), 3 dx (read_write).
override WG: u32 = 256;

struct Params {
  count: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<u32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * WG;
  if (o >= params.count) {
    return;
  }
  let i = argmax[o];
  dx[i] += dy[o];
}
