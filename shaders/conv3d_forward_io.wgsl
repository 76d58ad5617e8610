// The interface of the conv3d forward shaders (conv3d_forward.wgsl, the direct kernel,
// conv3d_forward_subgroup.wgsl, conv3d_forward_rows.wgsl and conv3d_forward_tiled.wgsl):
// params, bindings, the weight-row read and the bias that starts each sum. Pasted
// by loadShaderSource where a shader has the line
//   // #include conv3d_forward_io.wgsl
// after its VEC_B override. Bindings: 0 params, 1 x (read), 2 w (read), 3 b (read;
// unused when has_bias = 0), 4 y (read_write).

struct Params {
  n: u32, d: u32, h: u32, w: u32, cin: u32,
  od: u32, oh: u32, ow: u32, cout: u32,
  kd: u32, kh: u32, kw: u32,
  pd: u32, ph: u32, pw: u32,
  m: u32, k: u32,
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> wt: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

// w[k, c..c+3]; channels past Cout are clamped (their sums are never stored).
fn w_row4(k: u32, c: u32) -> vec4f {
  let i = k * params.cout;
  if (VEC_B) {
    return wt[(i + min(c, params.cout - 4u)) >> 2u];
  }
  var v: vec4f;
  for (var j = 0u; j < 4u; j++) {
    let e = i + min(c + j, params.cout - 1u);
    v[j] = wt[e >> 2u][e & 3u];
  }
  return v;
}

// b[c..c+3], the first term of each output's sum (every forward kernel adds the bias
// first, then the taps in order); channels past Cout are clamped (never stored), and
// without a bias it is zero.
fn bias4(c: u32) -> vec4f {
  var v = vec4f(0.0);
  if (params.has_bias != 0u) {
    for (var j = 0u; j < 4u; j++) {
      v[j] = bias[min(c + j, params.cout - 1u)];
    }
  }
  return v;
}
