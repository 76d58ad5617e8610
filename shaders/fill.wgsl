// fill: y[i] = value
//
// Sets a buffer to a constant (batch-norm gamma to 1, a gradient to a seed value);
// zeroing alone is Recorder.clear, which needs no pipeline.
//
// Layout: flat f32 array of length n.
// Dispatch: ceil(n / WG) threads in 1-D, folded into y past the per-dimension
//           workgroup limit (grid1d in src/kernels/kernel.ts).
// Bindings: 0 params {n: u32, value: f32}, 1 y (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
  value: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  y[i] = params.value;
}
