// softmax + focal loss, fused with its gradient (Keras CategoricalFocalCrossentropy,
// from_logits, one-hot targets, mean over the batch):
//   p[i, :]   = softmax(logits[i, :])                    (max-subtracted)
//   q         = clip(p[i, y_i], eps, 1 - eps)            (y_i = labels[i])
//   loss[i]   = -alpha[y_i] * (1 - q)^gamma * log(q)
//   dlogits[i, j] = d(mean_k loss[k]) / d logits[i, j]
//                 = inv_n * dL/dq * [eps <= p_y <= 1 - eps] * p_y * (delta(j, y_i) - p[i, j])
//   dL/dq = alpha[y_i] * (gamma * (1 - q)^(gamma - 1) * log(q) - (1 - q)^gamma / q)
// gamma = 0 with alpha = 1 is plain categorical cross-entropy. Outside the clip
// range the loss is constant in the logits, so its gradient is zero there, as
// TensorFlow's clip_by_value gradient makes it. Every output is overwritten.
// A label outside [0, C) gives loss 0 and a zero gradient row.
// A row with a NaN or Inf logit gets a NaN loss, tested on the bits: WGSL lets
// max/min/clamp drop NaNs, so the training loop would otherwise never see one.
//
// Layout: logits, probs, dlogits [N, C] row-major; labels [N] u32; alpha [C]; loss [N].
// Dispatch: one thread per row, ceil(N / WG) in 1-D, folded into y (grid1d);
//           C (the number of classes) is small.
// Bindings: 0 params {n: u32, c: u32, gamma: f32, eps: f32, inv_n: f32},
//           1 logits, 2 labels (u32), 3 alpha (read),
//           4 loss, 5 probs, 6 dlogits (read_write).
override WG: u32 = 64;

struct Params {
  n: u32,
  c: u32,
  gamma: f32,
  eps: f32,
  inv_n: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> alpha: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> probs: array<f32>;
@group(0) @binding(6) var<storage, read_write> dlogits: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  let c = params.c;
  let row = i * c;
  var nonFinite = false;
  for (var j = 0u; j < c; j++) {
    nonFinite = nonFinite || (bitcast<u32>(logits[row + j]) & 0x7f800000u) == 0x7f800000u;
  }
  var mx = logits[row];
  for (var j = 1u; j < c; j++) {
    mx = max(mx, logits[row + j]);
  }
  var sum = 0.0;
  for (var j = 0u; j < c; j++) {
    let e = exp(logits[row + j] - mx);
    probs[row + j] = e;
    sum += e;
  }
  for (var j = 0u; j < c; j++) {
    probs[row + j] /= sum;
  }

  let y = labels[i];
  if (y >= c) {
    loss[i] = 0.0;
    for (var j = 0u; j < c; j++) {
      dlogits[row + j] = 0.0;
    }
    return;
  }
  let py = probs[row + y];
  let q = clamp(py, params.eps, 1.0 - params.eps);
  let a = alpha[y];
  let om = 1.0 - q;
  let modulation = pow(om, params.gamma);
  let logq = log(q);
  // A NaN constant expression is a WGSL error, so the NaN bits are built at run time.
  let nan = bitcast<f32>(0x7fc00000u | (i & 0u));
  loss[i] = select(-a * modulation * logq, nan, nonFinite);

  let dldq = a * (params.gamma * pow(om, params.gamma - 1.0) * logq - modulation / q);
  let inRange = py >= params.eps && py <= 1.0 - params.eps;
  let g = select(0.0, params.inv_n * dldq * py, inRange);
  for (var j = 0u; j < c; j++) {
    let onehot = select(0.0, 1.0, j == y);
    dlogits[row + j] = g * (onehot - probs[row + j]);
  }
}
