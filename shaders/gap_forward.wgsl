// global average pooling forward: y[n, c] = (1/S) * sum_s x[n, s, c]
//
// Layout: x [N, S, C] channels-last (S = D*H*W), y [N, C].
// Dispatch: one thread per (n, c), ceil(N*C / WG) in 1-D, folded into y (grid1d).
//           Neighbouring threads read neighbouring channels, so every step of the
//           loop over S is one contiguous read. In this network S is small (the
//           last pooled map), and N*C threads already fill the device.
// Bindings: 0 params {n: u32, s: u32, c: u32}, 1 x (read), 2 y (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
  s: u32,
  c: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n * params.c) {
    return;
  }
  let n = i / params.c;
  let c = i % params.c;
  var acc = 0.0;
  let base = n * params.s * params.c + c;
  for (var s = 0u; s < params.s; s++) {
    acc += x[base + s * params.c];
  }
  y[i] = acc / f32(params.s);
}
