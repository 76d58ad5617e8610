// dense backward for the bias: db[j] += sum_i dy[i, j]
//
// Layout: dy [M, N] row-major, db [N].
// Dispatch: one thread per column, ceil(N / WG) in 1-D, folded into y (grid1d);
//           M is the batch size here, so a loop over rows is short, and
//           neighbouring threads read neighbouring columns of each row.
// Bindings: 0 params {m: u32, n: u32}, 1 dy (read), 2 db (read_write).
override WG: u32 = 64;

struct Params {
  m: u32,
  n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= params.n) {
    return;
  }
  var acc = 0.0;
  for (var i = 0u; i < params.m; i++) {
    acc += dy[i * params.n + j];
  }
  db[j] += acc;
}
