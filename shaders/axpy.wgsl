// axpy: y[i] += alpha * x[i]
//
// Used to accumulate gradients (a tensor consumed by two ops receives two
// contributions) and by `ser doctor` as its self-test kernel.
//
// Layout: flat f32 arrays of length n.
// Dispatch: ceil(n / WG) threads in 1-D, folded into y past 65535 workgroups
//           (see grid1d in src/kernels/kernel.ts).
// Bindings: 0 params {n: u32, alpha: f32}, 1 x (read), 2 y (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
  alpha: f32,
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
  y[i] += params.alpha * x[i];
}
