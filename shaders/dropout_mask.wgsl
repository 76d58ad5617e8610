// The dropout mask, shared by dropout and the fused bn_relu_maxpool_forward (whose
// masks must be the same bit for bit), pasted where a shader has the line
//   // #include dropout_mask.wgsl
//   keep(i) = (hash32(hash32(i ^ key) + key) >> 8) >= threshold
// key = dropout_key(seed, step) = hash32(seed ^ hash32(step + 0x9e3779b9)), i the
// element's index in the whole tensor, threshold = round(rate · 2^24). hash32 is a
// full-avalanche 32-bit integer hash (xorshift-multiply, constants from Wellons'
// "lowbias32"), so the 24 high bits compared with the threshold are close to uniform.
// src/ref/dropout.ts is an independent implementation of the same function.

fn hash32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

fn dropout_key(seed: u32, step: u32) -> u32 {
  return hash32(seed ^ hash32(step + 0x9e3779b9u));
}

// Whether element i (of the whole tensor) is kept.
fn dropout_kept(i: u32, key: u32, threshold: u32) -> bool {
  return (hash32(hash32(i ^ key) + key) >> 8u) >= threshold;
}
