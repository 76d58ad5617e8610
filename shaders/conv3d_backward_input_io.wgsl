// The interface of the conv3d backward_input shaders (conv3d_backward_input.wgsl, the
// direct kernel, conv3d_backward_input_subgroup.wgsl, conv3d_backward_input_tiled.wgsl).
// Pasted by loadShaderSource where a shader has the line
//   // #include conv3d_backward_input_io.wgsl
// Bindings: 0 params, 1 dy (read), 2 w (read), 3 dx (read_write).
// ACCUMULATE: dx += the gradient (the default), or dx = it (false: the first writer of a
// gradient, which each of these kernels fills whole; Graph.gradToWrite).

override ACCUMULATE: bool = true;

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
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// The one store of each dx element: added to what is there, or (ACCUMULATE false) in place of it.
fn store_dx(e: u32, v: f32) {
  if (ACCUMULATE) {
    dx[e] += v;
  } else {
    dx[e] = v;
  }
}
