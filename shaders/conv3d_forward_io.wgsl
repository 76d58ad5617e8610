// The interface of the conv3d forward shaders (conv3d_forward.wgsl, the direct kernel,
// conv3d_forward_subgroup.wgsl, conv3d_forward_rows.wgsl and conv3d_forward_tiled.wgsl):
// params, bindings, the weight-row read, the bias that starts each sum and the store
// of four channels of an output. Pasted by loadShaderSource where a shader has the line
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
@group(0) @binding(4) var<storage, read_write> y: array<vec4f>;

// y[m, c .. c+3] = v for the channels that exist (c a multiple of 4). Where VEC_B
// (Cout % 4 == 0) they are one vec4 of y, stored at once: on a CPU driver a store costs
// what a load does, and a vec4 store about two scalar ones (docs/PERFORMANCE.md), which
// matters where an output takes few multiply-adds (the first layer: 25). Otherwise each
// channel is stored into its component; components are distinct memory locations, so
// invocations that store neighbouring channels of one vec4 do not race.
fn store_y4(m: u32, c: u32, v: vec4f) {
  let e = m * params.cout + c;
  if (VEC_B) {
    if (c < params.cout) {
      y[e >> 2u] = v;
    }
  } else {
    for (var j = 0u; j < 4u; j++) {
      if (c + j < params.cout) {
        y[(e + j) >> 2u][(e + j) & 3u] = v[j];
      }
    }
  }
}

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

// Rows k .. k+3 of w (four input channels of one tap) for the 4·cv channels of a
// group of 8 lanes that share them by shuffles (the subgroup and rows kernels; cv is
// their CV): lane q loads the channels c_load = c0 + 4 (q % cv). With cv = 8 that is one
// load per row; with cv = 4 or 2 one load covers 8 / cv rows (lane q: row k + q / cv),
// so 2 loads or 1 instead of 4. Row r, channels c0 + 4j .. are then in element
// r / (8 / cv) of the result at lane (r % (8 / cv))·cv + j.
fn w_rows4_grouped(k: u32, c_load: u32, q8: u32, cv: u32) -> array<vec4f, 4> {
  var l: array<vec4f, 4>;
  l[0] = w_row4(k + q8 / cv, c_load);
  l[1] = l[0];
  l[2] = l[0];
  l[3] = l[0];
  if (cv == 8u) {
    l[1] = w_row4(k + 1u, c_load);
    l[2] = w_row4(k + 2u, c_load);
    l[3] = w_row4(k + 3u, c_load);
  } else if (cv == 4u) {
    l[2] = w_row4(k + 2u + q8 / cv, c_load);
    l[3] = l[2];
  }
  return l;
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
