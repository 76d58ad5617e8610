// batch norm → ReLU → max pooling (window = stride, floor) in one pass, the tail
// of each of the report's conv blocks. Unfused, the block writes and rereads two
// full-size intermediates (the normalised and the rectified activation); here x
// is read once and only the pooled output and its argmax are written.
//   v(i)    = gamma[c] * (x[i] - mean[c]) * k[c] + beta[c],  k = scale or 1/sqrt(scale + eps)
//   y[o]    = max(0, max over the window of v)
//   argmax  = flat index into x of the window's first maximum of v (scanning d, h, w)
//             where y > 0; NONE (0xffffffff) where the ReLU closed (y = 0)
// ReLU is monotone, so pooling before rectifying picks the same value and, where
// it is positive, the same element as pooling the rectified activation;
// backward (bn_relu_maxpool_backward) routes dy to argmax, and nowhere where it is NONE.
// With DROPOUT, the block's dropout follows in the same pass (the dropout op's
// function, mask and all: dropout_mask.wgsl at the output's index in the whole
// tensor, base + o):
//   y[o] = keep(base + o) ? y[o] * scale : 0,  argmax[o] = NONE where dropped
// so the backward needs no mask: it scales dy by `scale` where argmax is not NONE.
//
// Layout: x [N, D, H, W, C] channels-last; y, argmax [N, OD, OH, OW, C];
//         gamma, beta, mean, scale [C] (scale: invstd in training, the running
//         variance in inference, from_var = 1). Every binding is viewed as vec4s
//         (buffers sized to a multiple of 16 bytes): with VEC (C % 4 == 0) an
//         invocation loads and stores four channels at once, otherwise one by one
//         as v[i >> 2][i & 3], skipping channels past C. The window is the
//         override constants PD, PH, PW.
// Dispatch: N·OD·OH·ceil(OW / POS) · ceil(C / 4) invocations in 1-D, folded into y
//           (grid1d). Invocation g takes channels 4q … 4q+3 (q = g mod ceil(C / 4)) of
//           POS consecutive output positions along W, so its channels' parameters and
//           its position's decoding are paid once for POS outputs; consecutive
//           invocations take consecutive channel quads, then positions.
// Bindings: 0 params, 1 x, 2 gamma, 3 beta, 4 mean, 5 scale (read), 6 y, 7 argmax (read_write).
override WG: u32 = 64;
override POS: u32 = 4;
override VEC: bool = false;
// The pooling window, as constants so that the window loops unroll and the first
// element, which starts the maximum, is not loaded twice.
override PD: u32 = 1;
override PH: u32 = 2;
override PW: u32 = 2;
override DROPOUT: bool = false;

const NONE: u32 = 0xffffffffu;

struct Params {
  n: u32,
  d: u32,
  h: u32,
  w: u32,
  c: u32,
  od: u32,
  oh: u32,
  ow: u32,
  from_var: u32,
  eps: f32,
  // dropout (with DROPOUT): round(rate · 2^24), 1 / (1 − rate), seed, step, index of this slice's first output
  threshold: u32,
  scale: f32,
  seed: u32,
  step: u32,
  base: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> gamma: array<vec4f>;
@group(0) @binding(3) var<storage, read> beta: array<vec4f>;
@group(0) @binding(4) var<storage, read> mean: array<vec4f>;
@group(0) @binding(5) var<storage, read> scale: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> argmax: array<vec4u>;

// x4, block_of: shared with the backward
// #include bn_relu_maxpool_common.wgsl

// bn_params: shared with the other batch-norm normalisation shader
// #include batchnorm_params.wgsl

// dropout_key, dropout_kept: shared with the dropout op
// #include dropout_mask.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = params;
  let b = block_of(gid.x + gid.y * nwg.x * WG);
  if (!b.inside) {
    return;
  }
  let n = b.n;
  let od = b.od;
  let oh = b.oh;
  let ow0 = b.ow0;
  let c = b.c;
  let valid = b.valid; // channels of this invocation
  let o0 = b.o0;

  let q = bn_params(c);
  let gm = q.gamma;
  let mu = q.mean;
  let bt = q.beta;
  let k = q.k;
  let lane = vec4u(0u, 1u, 2u, 3u);
  let key = select(0u, dropout_key(p.seed, p.step), DROPOUT);
  for (var t = 0u; t < POS; t++) {
    if (ow0 + t < p.ow) {
      let w0 = (ow0 + t) * PW;
      // The same expression as batchnorm_forward, so fused and unfused blocks agree bit for bit.
      let first = (((n * p.d + od * PD) * p.h + oh * PH) * p.w + w0) * p.c + c;
      var best = gm * (x4(first, valid) - mu) * k + bt;
      var bestAt = vec4u(first) + lane;
      for (var i = 0u; i < PD; i++) {
        for (var j = 0u; j < PH; j++) {
          let row = ((n * p.d + od * PD + i) * p.h + oh * PH + j) * p.w + w0;
          for (var q = 0u; q < PW; q++) {
            if (i == 0u && j == 0u && q == 0u) {
              continue; // the first element, already in best
            }
            let idx = (row + q) * p.c + c;
            let v = gm * (x4(idx, valid) - mu) * k + bt;
            let better = v > best;
            best = select(best, v, better);
            bestAt = select(bestAt, vec4u(idx) + lane, better);
          }
        }
      }
      var out = max(best, vec4f(0.0));
      var open = best > vec4f(0.0);
      let o = o0 + t * p.c;
      if (DROPOUT) {
        let i = p.base + o;
        let keep = vec4<bool>(dropout_kept(i, key, p.threshold), dropout_kept(i + 1u, key, p.threshold), dropout_kept(i + 2u, key, p.threshold), dropout_kept(i + 3u, key, p.threshold));
        out = select(vec4f(0.0), out * p.scale, keep);
        open = open & keep;
      }
      bestAt = select(vec4u(NONE), bestAt, open);
      if (VEC) {
        y[o >> 2u] = out;
        argmax[o >> 2u] = bestAt;
      } else {
        for (var j = 0u; j < valid; j++) {
          y[(o + j) >> 2u][(o + j) & 3u] = out[j];
          argmax[(o + j) >> 2u][(o + j) & 3u] = bestAt[j];
        }
      }
    }
  }
}
