// The per-channel parameters of batch norm's normalisation, shared by batchnorm_forward
// and bn_relu_maxpool_forward (whose outputs must agree bit for bit), pasted where a
// shader has the line
//   // #include batchnorm_params.wgsl
// The including shader binds gamma, beta, mean and scale [C] as vec4s and has
// `params.c`, `params.from_var`, `params.eps` and the override VEC (C % 4 == 0).

// gamma, mean, beta and k of channels c … c+3: k = scale (invstd, training) or
// 1 / sqrt(scale + eps) (the running variance, inference). Channels past C (scalar
// path) repeat channel C − 1 and are never stored.
struct BnParams {
  gamma: vec4f,
  mean: vec4f,
  beta: vec4f,
  k: vec4f,
}

fn bn_params(c: u32) -> BnParams {
  var q: BnParams;
  if (VEC) {
    q = BnParams(gamma[c >> 2u], mean[c >> 2u], beta[c >> 2u], scale[c >> 2u]);
  } else {
    for (var j = 0u; j < 4u; j++) {
      let e = min(c + j, params.c - 1u);
      q.gamma[j] = gamma[e >> 2u][e & 3u];
      q.mean[j] = mean[e >> 2u][e & 3u];
      q.beta[j] = beta[e >> 2u][e & 3u];
      q.k[j] = scale[e >> 2u][e & 3u];
    }
  }
  if (params.from_var != 0u) {
    q.k = inverseSqrt(q.k + params.eps);
  }
  return q;
}
