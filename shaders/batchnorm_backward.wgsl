// batch-norm backward for the input (training mode, batch statistics):
//   xhat = (x - mean) * invstd
//   dx[r, c] += gamma[c] * invstd[c] * (dy[r, c] - sum_dy[c] / M - xhat * sum_dy_xhat[c] / M)
// where sum_dy and sum_dy_xhat come from batchnorm_backward_stats; with ACCUMULATE
// false, dx = … instead (the first writer of a gradient, which then needs no clearing).
//
// Layout: dy, x, dx [M, C] row-major (channels-last); mean, invstd, gamma [C]; sums [2, C].
// Every binding is viewed as vec4s (buffers sized to a multiple of 16 bytes): with
// VEC (C % 4 == 0) an invocation loads and stores four channels at once, otherwise
// it reads and writes them one by one as v[i >> 2][i & 3], skipping channels past C.
// Dispatch: ceil(M / ROWS) · ceil(C / 4) invocations in 1-D, folded into y (grid1d).
//           Invocation g takes channels 4q … 4q+3 (q = g mod ceil(C / 4)) of rows
//           b·ROWS … b·ROWS + ROWS-1 (b = g / ceil(C / 4)), so its channels' parameters
//           are loaded once for ROWS rows. (Rows M / ROWS apart instead would read
//           ROWS lines of each tensor at addresses a multiple of 4 KiB apart whenever
//           M / ROWS · C is a multiple of 1024, which thrashes a CPU's L1 sets.)
// Bindings: 0 params {m, c: u32, inv_m: f32}, 1 dy, 2 x, 3 mean, 4 invstd, 5 gamma,
//           6 sums (read), 7 dx (read_write).
override WG: u32 = 64;
override ROWS: u32 = 4;
override VEC: bool = false;
override ACCUMULATE: bool = true;

struct Params {
  m: u32,
  c: u32,
  inv_m: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read> x: array<vec4f>;
@group(0) @binding(3) var<storage, read> mean: array<vec4f>;
@group(0) @binding(4) var<storage, read> invstd: array<vec4f>;
@group(0) @binding(5) var<storage, read> gamma: array<vec4f>;
@group(0) @binding(6) var<storage, read> sums: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> dx: array<vec4f>;

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
  // Channels past C (scalar path) repeat channel C-1 and are never stored.
  var mu: vec4f;
  var k: vec4f;
  var gk: vec4f;
  var sumDy: vec4f;
  var sumDyXhat: vec4f;
  if (VEC) {
    mu = mean[c >> 2u];
    k = invstd[c >> 2u];
    gk = gamma[c >> 2u] * k;
    sumDy = sums[c >> 2u];
    sumDyXhat = sums[(p.c + c) >> 2u];
  } else {
    for (var j = 0u; j < 4u; j++) {
      let e = min(c + j, p.c - 1u);
      let e1 = p.c + e;
      mu[j] = mean[e >> 2u][e & 3u];
      k[j] = invstd[e >> 2u][e & 3u];
      gk[j] = gamma[e >> 2u][e & 3u] * k[j];
      sumDy[j] = sums[e >> 2u][e & 3u];
      sumDyXhat[j] = sums[e1 >> 2u][e1 & 3u];
    }
  }
  for (var t = 0u; t < ROWS; t++) {
    let r = b * ROWS + t;
    if (r < p.m) {
      let i = r * p.c + c;
      if (VEC) {
        let xhat = (x[i >> 2u] - mu) * k;
        let v = gk * (dy[i >> 2u] - (sumDy + xhat * sumDyXhat) * p.inv_m);
        if (ACCUMULATE) {
          dx[i >> 2u] += v;
        } else {
          dx[i >> 2u] = v;
        }
      } else {
        for (var j = 0u; j < 4u; j++) {
          let e = i + j;
          if (c + j < p.c) {
            let xhat = (x[e >> 2u][e & 3u] - mu[j]) * k[j];
            let v = gk[j] * (dy[e >> 2u][e & 3u] - (sumDy[j] + xhat * sumDyXhat[j]) * p.inv_m);
            if (ACCUMULATE) {
              dx[e >> 2u][e & 3u] += v;
            } else {
              dx[e >> 2u][e & 3u] = v;
            }
          }
        }
      }
    }
  }
}
