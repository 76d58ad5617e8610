// Mel power spectrogram in one pass: framing (centre zero padding, periodic
// Hann window, any hop) fused into the load of a mixed-radix Stockham FFT in
// workgroup memory, |X|² and the mel projection fused into its epilogue. One
// workgroup per pair of real frames (of one clip); the frames, their spectra
// and power spectra never touch global memory.
//
// Math: z = x_a + i·x_b, two real frames of one clip (frame f covers samples
// t·hop + k − N/2, k < N, zeros outside the clip, times window[k]). Stockham
// autosort (decimation in frequency) with radices R = min(16, n) while the
// remaining length n = N/s > 1, s the product of the radices so far: butterfly
// b < N/R has p = b / s, q = b mod s and
//   a_j = z[q + s·p + j·N/R]  (j < R),   y_k = Σ_j a_j·W_R^(jk),
//   z'[q + s·(R·p + k)] = y_k · W_N^(p·k·s),  W_M = exp(−2πi/M),
// leaving Z = DFT(z) in natural order (N = 2048: radices 16, 16, 8). Then
//   power_a[k] = |Z[k] + Z*[N−k]|² / 4,  power_b[k] = |Z[k] − Z*[N−k]|² / 4,
//   mel_x[m] = Σ_{k in range_m} fb[m][k] · power_x[k]   (range_m: filter m's
//   non-zero bins, from the CPU).
// Radix 16 keeps the workgroup-memory passes (and their barriers, which a CPU
// driver runs as coroutine switches) at ceil(log2 N / 4) instead of log2 N;
// each thread holds one radix-16 butterfly's 16 values in registers.
//
// Layouts: signal = all clips concatenated (f32); frame_info[f] = (offset of the
//   clip in signal, clip length, t, clip index) for f < frames (each clip's
//   frame count rounded up to even: a slot with t = F is padding);
//   clip_info[c] = (first frame, frame count F, output offset, n_mels·F);
//   window [N]; twiddle [N] vec2f with W_N^j (float64-exact, from the CPU);
//   fb [n_mels][N/2 + 1] f32; ranges [n_mels] vec2u;
//   mel: clip c at its output offset, [n_mels][F] row-major.
// Dispatch: one workgroup per pair, workgroup ids folded into y (x·y >= pairs);
//   WG = max(1, N/16) threads. Requires 8·N bytes <= maxComputeWorkgroupStorageSize
//   and WG <= maxComputeInvocationsPerWorkgroup (the front end falls back to the
//   staged kernels otherwise).
// Bindings: 0 params {hop, pad, frames, pairs, groups_x, n_mels}, 1 signal,
//           2 frame_info, 3 clip_info, 4 window, 5 twiddle, 6 fb, 7 ranges (read),
//           8 mel (read_write).
override LOG2N: u32 = 11;
override N: u32 = 1u << LOG2N;
override WG: u32 = max(1u, N / 16u);
/** Radix-16 passes, then one pass of radix RL (1: none), PER_L butterflies per thread. */
override PASSES16: u32 = LOG2N / 4u;
override RL: u32 = 1u << (LOG2N % 4u);
override PER_L: u32 = min(16u, N) / RL;
/** Register values per thread. */
const MAXV: u32 = 16u;

struct Params {
  hop: u32,
  pad: u32,
  frames: u32,
  pairs: u32,
  groups_x: u32,
  n_mels: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> signal: array<f32>;
@group(0) @binding(2) var<storage, read> frame_info: array<vec4u>;
@group(0) @binding(3) var<storage, read> clip_info: array<vec4u>;
@group(0) @binding(4) var<storage, read> window: array<f32>;
@group(0) @binding(5) var<storage, read> twiddle: array<vec2f>;
@group(0) @binding(6) var<storage, read> fb: array<f32>;
@group(0) @binding(7) var<storage, read> ranges: array<vec2u>;
@group(0) @binding(8) var<storage, read_write> mel: array<f32>;

var<workgroup> buf: array<vec2f, N>;

// W_16^j = exp(−2πij/16), j < 10 (the largest exponent the 4×4 split needs is 3·3).
const W16 = array<vec2f, 10>(
  vec2f(1.0, 0.0),
  vec2f(0.92387953251128674, -0.38268343236508977),
  vec2f(0.70710678118654752, -0.70710678118654752),
  vec2f(0.38268343236508977, -0.92387953251128674),
  vec2f(0.0, -1.0),
  vec2f(-0.38268343236508977, -0.92387953251128674),
  vec2f(-0.70710678118654752, -0.70710678118654752),
  vec2f(-0.92387953251128674, -0.38268343236508977),
  vec2f(-1.0, 0.0),
  vec2f(-0.92387953251128674, 0.38268343236508977),
);

fn cmul(a: vec2f, b: vec2f) -> vec2f {
  return vec2f(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

/** −i·v */
fn mul_mi(v: vec2f) -> vec2f {
  return vec2f(v.y, -v.x);
}

fn dft4(a: vec2f, b: vec2f, c: vec2f, d: vec2f) -> array<vec2f, 4> {
  let apc = a + c;
  let amc = a - c;
  let bpd = b + d;
  let jbmd = mul_mi(b - d);
  return array<vec2f, 4>(apc + bpd, amc + jbmd, apc - bpd, amc - jbmd);
}

/** 16-point DFT of x[o … o+16) as 4 × 4 (n = 4·n1 + n2, k = k1 + 4·k2), written back in place. */
fn dft16_at(x: ptr<function, array<vec2f, MAXV>>, o: u32) {
  var b: array<vec2f, 16>;
  for (var n2 = 0u; n2 < 4u; n2++) {
    let y = dft4((*x)[o + n2], (*x)[o + 4u + n2], (*x)[o + 8u + n2], (*x)[o + 12u + n2]);
    for (var k1 = 0u; k1 < 4u; k1++) {
      b[4u * n2 + k1] = cmul(y[k1], W16[n2 * k1]);
    }
  }
  for (var k1 = 0u; k1 < 4u; k1++) {
    let y = dft4(b[k1], b[4u + k1], b[8u + k1], b[12u + k1]);
    for (var k2 = 0u; k2 < 4u; k2++) {
      (*x)[o + k1 + 4u * k2] = y[k2];
    }
  }
}

/** 8-point DFT of x[o … o+8) as 2 × 4: n = 2·n1 + n2, k = k1 + 4·k2, written back in place. */
fn dft8_at(x: ptr<function, array<vec2f, MAXV>>, o: u32) {
  let e = dft4((*x)[o], (*x)[o + 2u], (*x)[o + 4u], (*x)[o + 6u]);
  let d = dft4((*x)[o + 1u], (*x)[o + 3u], (*x)[o + 5u], (*x)[o + 7u]);
  for (var k1 = 0u; k1 < 4u; k1++) {
    let t = cmul(d[k1], W16[2u * k1]);
    (*x)[o + k1] = e[k1] + t;
    (*x)[o + k1 + 4u] = e[k1] - t;
  }
}

fn dft4_at(x: ptr<function, array<vec2f, MAXV>>, o: u32) {
  let y = dft4((*x)[o], (*x)[o + 1u], (*x)[o + 2u], (*x)[o + 3u]);
  for (var k = 0u; k < 4u; k++) {
    (*x)[o + k] = y[k];
  }
}

fn dft2_at(x: ptr<function, array<vec2f, MAXV>>, o: u32) {
  let a = (*x)[o];
  let b = (*x)[o + 1u];
  (*x)[o] = a + b;
  (*x)[o + 1u] = a - b;
}

// Branch-free: a CPU driver runs both sides of a divergent branch with masks anyway.
fn sample(info: vec4u, valid: bool, k: u32) -> f32 {
  // j = t·hop + k − pad, kept unsigned: j < 0 shows up as start < pad.
  let start = info.z * params.hop + k;
  let j = start - params.pad;
  let inside = valid && start >= params.pad && j < info.y;
  return select(0.0, signal[select(0u, info.x + j, inside)] * window[k], inside);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  // The pair index is uniform across the workgroup, so the early exit keeps barriers in uniform control flow.
  let pair = wid.x + wid.y * params.groups_x;
  if (pair >= params.pairs) {
    return;
  }
  let tid = lid.x;
  let fa = 2u * pair;
  let has_b = fa + 1u < params.frames;
  let info_a = frame_info[fa];
  let info_b = frame_info[min(fa + 1u, params.frames - 1u)];

  // Radix-16 passes, one butterfly per thread. Every loop bound below is a
  // pipeline constant, so the compiler can unroll the loops and keep v in
  // registers. (Several butterflies per thread, fewer threads, measured slower
  // on lavapipe.) The first pass (s = 1, p = tid) reads the framed signal; it
  // is peeled off the loop because a CPU driver runs both sides of a branch it
  // cannot prove uniform.
  var v: array<vec2f, MAXV>;
  if (PASSES16 > 0u) {
    for (var j = 0u; j < 16u; j++) {
      let e = tid + j * (N / 16u);
      v[j] = vec2f(sample(info_a, true, e), sample(info_b, has_b, e));
    }
  }
  for (var ps = 0u; ps < PASSES16; ps++) {
    let log2s = 4u * ps;
    let s = 1u << log2s;
    if (ps > 0u) {
      // Everyone has written the previous pass before anyone reads it.
      workgroupBarrier();
      let base = (tid & (s - 1u)) + s * (tid >> log2s);
      for (var j = 0u; j < 16u; j++) {
        v[j] = buf[base + j * (N / 16u)];
      }
      // Everyone has read this pass's inputs before anyone overwrites them.
      workgroupBarrier();
    }
    let p = tid >> log2s;
    let q = tid & (s - 1u);
    dft16_at(&v, 0u);
    // W^(p·s·k) = W^(p·s·k1) · W^(4·p·s·k2) for k = k1 + 4·k2: 6 table reads instead of 15.
    let ps0 = p * s;
    let w_lo = array<vec2f, 4>(vec2f(1.0, 0.0), twiddle[ps0], twiddle[2u * ps0], twiddle[3u * ps0]);
    let w_hi = array<vec2f, 4>(vec2f(1.0, 0.0), twiddle[4u * ps0], twiddle[8u * ps0], twiddle[12u * ps0]);
    for (var k = 0u; k < 16u; k++) {
      buf[q + s * (16u * p + k)] = cmul(v[k], cmul(w_lo[k & 3u], w_hi[k >> 2u]));
    }
  }

  // Last pass of radix RL = 2, 4 or 8 (none when log2 N is a multiple of 4),
  // PER_L butterflies per thread. Its twiddles are all 1: the remaining length
  // is RL, so p = 0.
  if (RL > 1u) {
    let log2s = 4u * PASSES16;
    let s = 1u << log2s;
    workgroupBarrier();
    for (var i = 0u; i < PER_L; i++) {
      let bfly = tid + i * WG;
      let q = bfly & (s - 1u);
      for (var j = 0u; j < RL; j++) {
        let e = q + s * (bfly >> log2s) + j * (N / RL);
        if (PASSES16 == 0u) {
          v[i * RL + j] = vec2f(sample(info_a, true, e), sample(info_b, has_b, e));
        } else {
          v[i * RL + j] = buf[e];
        }
      }
    }
    workgroupBarrier();
    for (var i = 0u; i < PER_L; i++) {
      if (RL == 8u) {
        dft8_at(&v, i * 8u);
      } else if (RL == 4u) {
        dft4_at(&v, i * 4u);
      } else {
        dft2_at(&v, i * 2u);
      }
    }
    for (var i = 0u; i < PER_L; i++) {
      let q = (tid + i * WG) & (s - 1u);
      for (var k = 0u; k < RL; k++) {
        buf[q + s * k] = v[i * RL + k];
      }
    }
  }
  workgroupBarrier();

  // Power spectra of both frames, written in place over bins 0 … N/2 as
  // (power_a, power_b): the thread of bin k is the only one to read buf[k], and
  // the other value it reads, buf[N − k], lies above N/2 (or is buf[k] itself).
  let half = N / 2u;
  for (var k = tid; k <= half; k += WG) {
    let z = buf[k];
    let c = buf[(N - k) & (N - 1u)];
    let xa = vec2f(z.x + c.x, z.y - c.y);
    let xb = vec2f(z.x - c.x, z.y + c.y);
    buf[k] = 0.25 * vec2f(dot(xa, xa), dot(xb, xb));
  }
  workgroupBarrier();

  // Mel projection of both frames over each filter's non-zero bins, written
  // into the frames' clip at [m][t]; frame b is skipped when it does not exist
  // or is its clip's padding slot (t == F).
  let clip_a = clip_info[info_a.w];
  let clip_b = clip_info[info_b.w];
  let write_b = has_b && info_b.z < clip_b.y;
  let bins = half + 1u;
  for (var m = tid; m < params.n_mels; m += WG) {
    let r = ranges[m];
    var acc = vec2f(0.0);
    for (var k = r.x; k < r.y; k++) {
      acc += fb[m * bins + k] * buf[k];
    }
    mel[clip_a.z + m * clip_a.y + info_a.z] = acc.x;
    if (write_b) {
      mel[clip_b.z + m * clip_b.y + info_b.z] = acc.y;
    }
  }
}
