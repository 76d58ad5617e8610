// batch-norm backward, second pass of the column reduction: per channel
//   sums[c]     = sum dy          (= this call's dbeta)
//   sums[C + c] = sum dy * xhat   (= this call's dgamma), xhat = (x - mean) * invstd
//   dbeta[c] += sums[c],  dgamma[c] += sums[C + c]
// sums is kept apart from dgamma/dbeta because those accumulate across calls,
// while the input gradient (batchnorm_backward) needs this call's sums alone.
//
// Layout: partial [2, chunks, C] from batchnorm_reduce mode 2; sums [2, C]; dgamma, dbeta [C].
// Dispatch: one thread per channel, ceil(C / WG) workgroups.
// Bindings: 0 params {c, chunks: u32}, 1 partial (read), 2 sums, 3 dgamma, 4 dbeta (read_write).
override WG: u32 = 64;

struct Params {
  c: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbeta: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let p = params;
  let ch = gid.x;
  if (ch >= p.c) {
    return;
  }
  var s0 = 0.0;
  var s1 = 0.0;
  for (var k = 0u; k < p.chunks; k++) {
    s0 += partial[k * p.c + ch];
    s1 += partial[(p.chunks + k) * p.c + ch];
  }
  sums[ch] = s0;
  sums[p.c + ch] = s1;
  dbeta[ch] += s0;
  dgamma[ch] += s1;
}
