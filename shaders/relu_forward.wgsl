// relu forward: y[i] = max(x[i], 0)
//
// Layout: flat f32 arrays of length n (any tensor shape).
// Dispatch: ceil(n / WG) threads in 1-D, folded into y (grid1d).
// Bindings: 0 params {n: u32}, 1 x (read), 2 y (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  y[i] = max(x[i], 0.0);
}
