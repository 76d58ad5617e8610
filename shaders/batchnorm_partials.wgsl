// The second pass of batch norm's column reductions, shared by batchnorm_forward_stats
// and batchnorm_backward_stats, pasted where a shader has the line
//   // #include batchnorm_partials.wgsl
// The including shader binds `partial` [2, chunks, C] (batchnorm_reduce's output) as
// vec4s and has `params.c`, `params.chunks` and the override VEC (C % 4 == 0).

// Elements i … i+3 of partial; with n of them valid (the scalar path), the rest read element i.
fn partial4(i: u32, n: u32) -> vec4f {
  if (VEC) {
    return partial[i >> 2u];
  }
  var v: vec4f;
  for (var j = 0u; j < 4u; j++) {
    let e = i + select(0u, j, j < n);
    v[j] = partial[e >> 2u][e & 3u];
  }
  return v;
}

// The column sums of channels c … c+3 (n of them valid) over the chunks, in chunk
// order: [0] of the first reduced quantity, [1] of the second.
fn sum_partials(c: u32, n: u32) -> array<vec4f, 2> {
  var s0 = vec4f(0.0);
  var s1 = vec4f(0.0);
  for (var k = 0u; k < params.chunks; k++) {
    s0 += partial4(k * params.c + c, n);
    s1 += partial4((params.chunks + k) * params.c + c, n);
  }
  return array<vec4f, 2>(s0, s1);
}
