// The kernel of backward_input as a forward convolution: flipped in every spatial axis,
// input and output channels swapped.
//   wt[zd, zh, zw, co, ci] = w[kd-1-zd, kh-1-zh, kw-1-zw, ci, co]
// Reversing all three spatial indices reverses the tap index t = (zd·kh + zh)·kw + zw,
// so tap t of wt is tap taps − 1 − t of w.
//
// dx = backward_input(dy, w) is then the forward convolution of dy with wt and pads
// k − 1 − p (stride 1), which lets a forward kernel run it (conv3dBackwardInput, rows).
//
// Layouts: w [taps, Cin, Cout], wt [taps, Cout, Cin].
// Dispatch: ceil(n / WG) threads in 1-D, folded into y past the per-dimension limit
//           (grid1d), n = taps·Cin·Cout.
// Bindings: 0 params {n, taps, cin, cout: u32}, 1 w (read), 2 wt (read_write).
override WG: u32 = 256;

struct Params {
  n: u32,
  taps: u32,
  cin: u32,
  cout: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> wt: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= params.n) {
    return;
  }
  let ci = i % params.cin;
  let co = (i / params.cin) % params.cout;
  let t = i / (params.cin * params.cout);
  wt[i] = w[((params.taps - 1u - t) * params.cin + ci) * params.cout + co];
}
