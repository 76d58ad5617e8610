// accuracy from a confusion matrix: out[0] = trace(counts) / sum(counts) (0 when empty)
//
// Layout: counts [C, C] u32 (row = true class), out [1] f32.
// Dispatch: one workgroup of WG threads; each sums a strided share of the
//           matrix, then a tree reduction in workgroup memory (WG a power of two).
// Bindings: 0 params {c: u32}, 1 counts (read, u32), 2 out (read_write).
override WG: u32 = 64;

struct Params {
  c: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> total: array<u32, WG>;
var<workgroup> diag: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let c = params.c;
  var sum = 0u;
  var hit = 0u;
  for (var k = t; k < c * c; k += WG) {
    sum += counts[k];
    if (k / c == k % c) {
      hit += counts[k];
    }
  }
  total[t] = sum;
  diag[t] = hit;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (t < stride) {
      total[t] += total[t + stride];
      diag[t] += diag[t + stride];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    out[0] = select(0.0, f32(diag[0]) / f32(total[0]), total[0] > 0u);
  }
}
