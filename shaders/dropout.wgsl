// dropout, forward and backward in one shader so that both directions use the
// very same mask function:
//   keep(i) = (hash32(hash32(i ^ key) + key) >> 8) >= threshold
//   forward   (ACCUMULATE = false): y[i]  = keep(i) ? x[i]  * scale : 0
//   backward  (ACCUMULATE = true):  dx[i] += keep(i) ? dy[i] * scale : 0
// key = hash32(seed ^ hash32(step + 0x9e3779b9)) is derived here from the params
// (once per invocation: two hashes, negligible); threshold = round(rate * 2^24) and
// scale = 1 / (1 - rate) (inverted dropout). No mask buffer exists: backward
// regenerates the mask from (seed, step). The mask function is dropout_mask.wgsl's.
//
// Layout: flat f32 arrays of length n, viewed as vec4s (buffers sized to a multiple of
// 16 bytes).
// Dispatch: one invocation per 4 elements, ceil(n / 4) invocations in 1-D, folded into
// y (grid1d). Each loads and stores its elements as one vec4; the last takes the
// n % 4 left over one element at a time. The mask stays a function of the element's
// global index alone, as in src/ref/dropout.ts.
// A slice of a larger tensor (elements base .. base + n) hashes global indices.
// Bindings: 0 params {n: u32, threshold: u32, scale: f32, seed: u32, step: u32, base: u32},
//           1 src (read: x or dy), 2 dst (read_write: y or dx).
override WG: u32 = 64;
override ACCUMULATE: bool = false;

struct Params {
  n: u32,
  threshold: u32,
  scale: f32,
  seed: u32,
  step: u32,
  base: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

// hash32, dropout_key, dropout_kept: shared with the fused bn_relu_maxpool_forward
// #include dropout_mask.wgsl

// The mask of element i of this slice (global index base + i).
fn kept(i: u32, key: u32) -> bool {
  return dropout_kept(params.base + i, key, params.threshold);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = gid.x + gid.y * nwg.x * WG;
  let i = q * 4u;
  if (i >= params.n) {
    return;
  }
  let key = dropout_key(params.seed, params.step);
  if (i + 4u <= params.n) {
    let keep = vec4<bool>(kept(i, key), kept(i + 1u, key), kept(i + 2u, key), kept(i + 3u, key));
    let v = select(vec4f(0.0), src[q] * params.scale, keep);
    if (ACCUMULATE) {
      dst[q] += v;
    } else {
      dst[q] = v;
    }
  } else {
    for (var e = i; e < params.n; e++) {
      let v = select(0.0, src[e >> 2u][e & 3u] * params.scale, kept(e, key));
      if (ACCUMULATE) {
        dst[e >> 2u][e & 3u] += v;
      } else {
        dst[e >> 2u][e & 3u] = v;
      }
    }
  }
}
