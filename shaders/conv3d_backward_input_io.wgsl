// The interface of the conv3d backward_input shaders (conv3d_backward_input.wgsl, the
// direct kernel, conv3d_backward_input_subgroup.wgsl, conv3d_backward_input_tiled.wgsl).
// Pasted by loadShaderSource where a shader has the line
//   // #include conv3d_backward_input_io.wgsl
// Bindings: 0 params, 1 dy (read), 2 w (read), 3 dx (read_write).
// ACCUMULATE: dx += the gradient (the default), or dx = it (false: the first writer of a
// gradient, which each of these kernels fills whole; Graph.gradToWrite).

override ACCUMULATE: bool = true;
// Cin % 4 == 0: four channels of a dx position are one vec4 of dx (set by the host).
override VEC_X: bool = false;

struct Params {
  n: u32, d: u32, h: u32, w: u32, cin: u32,
  od: u32, oh: u32, ow: u32, cout: u32,
  kd: u32, kh: u32, kw: u32,
  pd: u32, ph: u32, pw: u32,
  m: u32, k: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read> wt: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4f>;

// The one store of dx[m, c .. c+3] (c a multiple of 4), for the channels that exist:
// added to what is there, or (ACCUMULATE false) in place of it. With VEC_X one vec4
// store (a store costs a CPU driver what a load does, a vec4 about two scalar ones);
// otherwise one per channel, into its component (components are distinct memory
// locations, so invocations storing neighbouring channels of one vec4 do not race).
fn store_dx4(m: u32, c: u32, v: vec4f) {
  let e = m * params.cin + c;
  if (VEC_X) {
    if (c < params.cin) {
      if (ACCUMULATE) {
        dx[e >> 2u] += v;
      } else {
        dx[e >> 2u] = v;
      }
    }
  } else {
    for (var j = 0u; j < 4u; j++) {
      let f = e + j;
      if (c + j < params.cin) {
        if (ACCUMULATE) {
          dx[f >> 2u][f & 3u] += v[j];
        } else {
          dx[f >> 2u][f & 3u] = v[j];
        }
      }
    }
  }
}
