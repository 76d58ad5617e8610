// batch-norm backward, second pass of the column reduction: per channel
//   sums[c]     = sum dy          (= this call's dbeta)
//   sums[C + c] = sum dy * xhat   (= this call's dgamma), xhat = (x - mean) * invstd
//   dbeta[c] += sums[c],  dgamma[c] += sums[C + c]
// sums is kept apart from dgamma/dbeta because those accumulate across calls,
// while the input gradient (batchnorm_backward) needs this call's sums alone.
//
// Layout: partial [2, chunks, C] from batchnorm_reduce mode 2; sums [2, C]; dgamma, dbeta [C].
// Every binding is viewed as vec4s (buffers sized to a multiple of 16 bytes): with
// VEC (C % 4 == 0) an invocation loads and stores four channels at once, otherwise
// one by one as v[i >> 2][i & 3], skipping channels past C.
// Dispatch: one invocation per 4 channels, ceil(C / (4 WG)) workgroups.
// Bindings: 0 params {c, chunks: u32}, 1 partial (read), 2 sums, 3 dgamma, 4 dbeta (read_write).
override WG: u32 = 64;
override VEC: bool = false;

struct Params {
  c: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> sums: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dgamma: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dbeta: array<vec4f>;

// partial4, sum_partials: shared with the other statistics shader
// #include batchnorm_partials.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let p = params;
  let c = gid.x * 4u;
  if (c >= p.c) {
    return;
  }
  let n = min(4u, p.c - c); // channels of this invocation
  let totals = sum_partials(c, n);
  let s0 = totals[0];
  let s1 = totals[1];
  if (VEC) {
    sums[c >> 2u] = s0;
    sums[(p.c + c) >> 2u] = s1;
    dbeta[c >> 2u] += s0;
    dgamma[c >> 2u] += s1;
  } else {
    for (var j = 0u; j < n; j++) {
      let e = c + j;
      let e1 = p.c + e;
      sums[e >> 2u][e & 3u] = s0[j];
      sums[e1 >> 2u][e1 & 3u] = s1[j];
      dbeta[e >> 2u][e & 3u] += s0[j];
      dgamma[e >> 2u][e & 3u] += s1[j];
    }
  }
}
