// relu backward: dx[i] += dy[i] * (y[i] > 0)  (with ACCUMULATE false, dx = …: the first
// writer of a gradient, which then needs no clearing)
//
// Uses the forward output y rather than x, so the input activation need not be
// kept alive; y > 0 exactly where x > 0.
//
// Layout: flat f32 arrays of length n.
// Dispatch: ceil(n / WG) threads in 1-D, folded into y (grid1d).
// Bindings: 0 params {n: u32}, 1 dy (read), 2 y (read), 3 dx (read_write).
override WG: u32 = 256;
override ACCUMULATE: bool = true;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  let v = select(0.0, dy[i], y[i] > 0.0);
  if (ACCUMULATE) {
    dx[i] += v;
  } else {
    dx[i] = v;
  }
}
