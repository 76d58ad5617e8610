// batch-norm normalisation: y[r, c] = gamma[c] * (x[r, c] - mean[c]) * k[c] + beta[c]
//   training  (from_var = 0): mean and k = invstd are this batch's statistics;
//   inference (from_var = 1): mean is the running mean and k = 1 / sqrt(running_var + eps).
//
// Layout: x, y [M, C] row-major (channels-last); gamma, beta, mean, scale [C]. Every
// binding is viewed as vec4s (buffers sized to a multiple of 16 bytes): with VEC
// (C % 4 == 0) an invocation loads and stores four channels at once, otherwise it
// reads and writes them one by one as v[i >> 2][i & 3], skipping channels past C.
// Dispatch: ceil(M / ROWS) · ceil(C / 4) invocations in 1-D, folded into y (grid1d).
//           Invocation g takes channels 4q … 4q+3 (q = g mod ceil(C / 4)) of rows
//           b·ROWS … b·ROWS + ROWS-1 (b = g / ceil(C / 4)), so its channels' parameters
//           are loaded once for ROWS rows. (Rows M / ROWS apart instead would read
//           ROWS lines of each tensor at addresses a multiple of 4 KiB apart whenever
//           M / ROWS · C is a multiple of 1024, which thrashes a CPU's L1 sets.)
// Bindings: 0 params {m, c, from_var: u32, eps: f32},
//           1 x, 2 gamma, 3 beta, 4 mean, 5 scale (invstd, or the variance when from_var = 1) (read),
//           6 y (read_write).
override WG: u32 = 64;
override ROWS: u32 = 4;
override VEC: bool = false;

struct Params {
  m: u32,
  c: u32,
  from_var: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> gamma: array<vec4f>;
@group(0) @binding(3) var<storage, read> beta: array<vec4f>;
@group(0) @binding(4) var<storage, read> mean: array<vec4f>;
@group(0) @binding(5) var<storage, read> scale: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> y: array<vec4f>;

// bn_params: shared with the other batch-norm normalisation shader
// #include batchnorm_params.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let quads = (p.c + 3u) / 4u;
  let g = gid.x + gid.y * nwg.x * WG;
  if (g >= (p.m + ROWS - 1u) / ROWS * quads) {
    return;
  }
  let c = (g % quads) * 4u;
  let b = g / quads;
  let q = bn_params(c);
  let gm = q.gamma;
  let mu = q.mean;
  let bt = q.beta;
  let k = q.k;
  for (var t = 0u; t < ROWS; t++) {
    let r = b * ROWS + t;
    if (r < p.m) {
      let i = r * p.c + c;
      if (VEC) {
        y[i >> 2u] = gm * (x[i >> 2u] - mu) * k + bt;
      } else {
        for (var j = 0u; j < 4u; j++) {
          let e = i + j;
          if (c + j < p.c) {
            y[e >> 2u][e & 3u] = gm[j] * (x[e >> 2u][e & 3u] - mu[j]) * k[j] + bt[j];
          }
        }
      }
    }
  }
}
