// Sum of split-K partials, accumulated into a gradient:
//   out[i] += sum_{s < splits} partial[s·stride + base + i]      for i < n
//
// Used after conv3d_backward_weight: once with base 0, n = K·Cout into dw, and once
// with base K·Cout, n = Cout into db (the partials' ones row). The splits are summed
// in a fixed order, so results do not depend on scheduling.
//
// Layout: partial [splits, stride] (stride = (K+1)·Cout), out [n].
// Dispatch: ceil(n / WG) threads in 1-D, folded into y past the per-dimension limit
//           (grid1d in src/kernels/kernel.ts).
// Bindings: 0 params {n, splits, stride, base: u32}, 1 partial (read), 2 out (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
  splits: u32,
  stride: u32,
  base: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  var s = 0.0;
  for (var z = 0u; z < params.splits; z++) {
    s += partial[z * params.stride + params.base + i];
  }
  out[i] += s;
}
