// confusion-matrix counts: counts[labels[i], pred[i]] += 1 for every sample i
//
// Adds into counts (the caller zeroes it once per evaluation), so the counts of
// many batches accumulate on the GPU. Samples with a label or prediction outside
// [0, C) are skipped rather than written out of bounds.
//
// Layout: pred [N] u32, labels [N] u32, counts [C, C] u32 (row = true class, column = predicted).
// Dispatch: one thread per sample, ceil(N / WG) in 1-D, folded into y (grid1d).
// Bindings: 0 params {n: u32, c: u32}, 1 pred (read), 2 labels (read),
//           3 counts (read_write, atomic u32).
override WG: u32 = 64;

struct Params {
  n: u32,
  c: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pred: array<u32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  let t = labels[i];
  let p = pred[i];
  if (t < params.c && p < params.c) {
    atomicAdd(&counts[t * params.c + p], 1u);
  }
}
