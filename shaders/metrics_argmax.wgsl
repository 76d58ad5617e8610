// argmax per row: out[i] = the first j maximising probs[i, j]
//
// Layout: probs [N, C] row-major f32, out [N] u32.
// Dispatch: one thread per row, ceil(N / WG) in 1-D, folded into y (grid1d).
// Bindings: 0 params {n: u32, c: u32}, 1 probs (read), 2 out (read_write, u32).
override WG: u32 = 64;

struct Params {
  n: u32,
  c: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  let row = i * params.c;
  var best = probs[row];
  var arg = 0u;
  for (var j = 1u; j < params.c; j++) {
    let v = probs[row + j];
    if (v > best) {
      best = v;
      arg = j;
    }
  }
  out[i] = arg;
}
