// global average pooling backward: dx[n, s, c] += dy[n, c] / S  (with ACCUMULATE false,
// dx = …: the first writer of a gradient, which then needs no clearing)
//
// Layout: dy [N, C], dx [N, S, C] channels-last (S = D*H*W).
// Dispatch: one thread per element of dx, ceil(N*S*C / WG) in 1-D, folded into y (grid1d).
// Bindings: 0 params {n: u32, s: u32, c: u32}, 1 dy (read), 2 dx (read_write).
override WG: u32 = 256;
override ACCUMULATE: bool = true;

struct Params {
  n: u32,
  s: u32,
  c: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let sc = params.s * params.c;
  if (i >= params.n * sc) {
    return;
  }
  let n = i / sc;
  let c = i % params.c;
  let v = dy[n * params.c + c] / f32(params.s);
  if (ACCUMULATE) {
    dx[i] += v;
  } else {
    dx[i] = v;
  }
}
