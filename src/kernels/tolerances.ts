// How far each GPU kernel's float32 results may lie from its float64 reference (src/ref):
// |got − want| ≤ atol + rtol·|want| per element (src/util/tolerance.ts). The op tests
// (test/<op>.test.ts) and `ser doctor --kernels` (src/cli/kernel-check-ops.ts) both take
// their bounds from here, so the two cannot drift apart. Plain data with no GPU imports:
// any layer, and any program, may load it.
import type { Tol } from '../util/tolerance.js';
import type { Conv3dOptions } from './conv3d_blocking.js';
import { WINOGRAD_DEFAULT_TILE } from './conv3d_winograd.js';

/** A tolerance whose atol is a fraction of the reference's largest |value| (atolOfMax · max|want|). */
export interface TolOfMax {
  atolOfMax: number;
  rtol: number;
}

/**
 * axpy, y += alpha·x: one float32 multiply-add per element. The bound is absolute,
 * with no relative part: results are a few units at most in the tests.
 */
export const AXPY_TOL: Tol = { atol: 1e-6, rtol: 0 };

export const RELU_TOL = {
  /** y = max(x, 0) only selects: exact. */
  forward: { atol: 0, rtol: 0 },
  /** dx += dy·[y > 0]: one float32 addition into dx. */
  backward: { atol: 1e-7, rtol: 1e-6 },
} satisfies Record<string, Tol>;

export const GAP_TOL = {
  /** A float32 sum over a channel's S positions, times 1/S: its rounding grows with S, so it is looser than backward. */
  forward: { atol: 1e-6, rtol: 1e-5 },
  /** dx += dy / S: one division and one addition per element. */
  backward: { atol: 1e-7, rtol: 1e-6 },
} satisfies Record<string, Tol>;

/** One GEMM shader for every direction: float32 sums of up to 512 products of values in [-1, 1] in the tests. */
export const DENSE_TOL = {
  forward: { atol: 5e-5, rtol: 1e-5 },
  /** backward_input, backward_weight's dw and db (a column sum of dy), each added into its gradient buffer. */
  backward: { atol: 5e-5, rtol: 1e-5 },
} satisfies Record<string, Tol>;

export const MAXPOOL3D_TOL = {
  /** The window's maximum is copied, not computed: exact. */
  forward: { atol: 0, rtol: 0 },
  /** dx[argmax] += dy: one float32 addition per pooled element. */
  backward: { atol: 1e-7, rtol: 1e-6 },
} satisfies Record<string, Tol>;

/** Softmax and the focal loss of one row in float32 (exp, a sum over the classes, log, pow). */
export const SOFTMAX_FOCAL_TOL = {
  probs: { atol: 1e-6, rtol: 1e-5 },
  loss: { atol: 1e-6, rtol: 1e-5 },
  /**
   * dL/dq · p_y · (δ − p) / N: a product of several rounded factors, so the loosest rtol;
   * the 1/N of the batch mean makes the values small, hence the smaller atol.
   */
  dlogits: { atol: 1e-7, rtol: 1e-4 },
} satisfies Record<string, Tol>;

/** Several steps (10 in the test, 3 in the check) with gradients spanning orders of magnitude; each step rounds in float32 again. */
export const ADAM_TOL = {
  /** p −= lr_t · m / (√v + eps). */
  param: { atol: 1e-6, rtol: 1e-5 },
  /** m and v, running averages of g and g²: tiny where g is, hence the small atol. */
  moments: { atol: 1e-7, rtol: 1e-5 },
} satisfies Record<string, Tol>;

/**
 * Training batch norm rests on float32 column sums over the M rows of a channel (tens of
 * thousands in the tests), summed per chunk and then across chunks; what is computed from
 * them inherits their rounding.
 */
export const BATCHNORM_TOL = {
  /** y = (x − mean)·invstd·γ + β with the batch's mean and invstd. */
  forward: { atol: 1e-4, rtol: 1e-4 },
  /** mean, invstd and the running mean and variance: the sums themselves. */
  stats: { atol: 1e-5, rtol: 1e-4 },
  /** dx, dγ, dβ: two more column sums (Σdy, Σdy·x̂) enter every dx, so the loosest rtol. */
  backward: { atol: 1e-4, rtol: 1e-3 },
  /** Inference uses the running statistics: no sum, a few float32 operations per element. */
  inference: { atol: 1e-5, rtol: 1e-5 },
} satisfies Record<string, Tol>;

/**
 * The fused batchnorm→relu→maxpool: batchnorm's statistics and backward with a relu and a
 * window maximum in between, which only select; so batchnorm's forward and backward bounds.
 */
export const BN_RELU_MAXPOOL_TOL = {
  forward: { atol: 1e-4, rtol: 1e-4 },
  backward: { atol: 1e-4, rtol: 1e-3 },
} satisfies Record<string, Tol>;

export const DROPOUT_TOL = {
  /**
   * y = keep ? x·scale : 0. atol 0: the mask must be the reference's bit for bit, and an element
   * dropped on one side only fails by far; rtol covers the float32 multiply by scale.
   */
  forward: { atol: 0, rtol: 1e-6 },
  /** The keep mask (0 or 1): exact. */
  mask: { atol: 0, rtol: 0 },
  /** dx += keep ? dy·scale : 0: a multiply and an addition. */
  backward: { atol: 1e-7, rtol: 1e-6 },
} satisfies Record<string, Tol>;

/**
 * conv3d: float32 sums of up to a few hundred products of values in [-1, 1] in the tests,
 * each kernel (direct, subgroup, tiled, rows, Winograd) summing in its own order.
 */
export const CONV3D_TOL = {
  /** Sums over the window and the input channels. */
  forward: { atol: 2e-5, rtol: 1e-4 },
  /** Sums over the window and the output channels. */
  backward_input: { atol: 2e-5, rtol: 1e-4 },
  /** Sums over every output position of the batch, in split-K partials added up afterwards. */
  backward_weight: { atol: 5e-5, rtol: 1e-4 },
  backward_bias: { atol: 5e-5, rtol: 1e-4 },
} satisfies Record<string, Tol>;

/**
 * conv3d by Winograd F(4×4, 3×3): its transforms multiply by up to 8 (A) and 5 (Bᵀ) and
 * divide by up to 24 (G), so each result carries the float32 rounding of sums of terms
 * several times larger than itself. Largest differences from the float64 reference in
 * the tests (values in [-1, 1]): 7.3e-5 forward and backward_input over sums of up to
 * 360 products, 8.3e-5 backward_weight over 1 920 positions — 4–10× F(2×2, 3×3)'s, as
 * the literature on Winograd's error growth leads one to expect. These bounds leave a
 * margin of about 3×. The bias gradient sums dy's tiles with coefficients of one, so it
 * keeps CONV3D_TOL's bound.
 */
export const CONV3D_WINOGRAD4_TOL = {
  forward: { atol: 2e-4, rtol: 1e-4 },
  backward_input: { atol: 2e-4, rtol: 1e-4 },
  backward_weight: { atol: 2.5e-4, rtol: 1e-4 },
} satisfies Record<string, Tol>;

/** The conv3d bounds for a dispatch run with `options` (Winograd F(4×4, 3×3)'s where it asks for Winograd with that tile, named or by default). */
export function conv3dTolFor(options: Conv3dOptions | undefined): typeof CONV3D_TOL {
  const f4 = options?.kernel === 'winograd' && (options.winograd?.tile ?? WINOGRAD_DEFAULT_TILE) === 4;
  return f4 ? { ...CONV3D_TOL, ...CONV3D_WINOGRAD4_TOL } : CONV3D_TOL;
}

/**
 * The mel front end against melSpectrogramRef. Power's atol is a fraction of the clip's largest
 * value: the FFT's float32 rounding is set by the large values it sums, not by a weak bin's own.
 * test/frontend.test.ts compares two GPU paths with twice these (each within them of the reference).
 */
export const MEL_TOL = {
  /** The STFT's power spectrum (fft_power). */
  spectrum: { atolOfMax: 2e-6, rtol: 1e-4 },
  /** Mel power, the filterbank applied to that spectrum. */
  melPower: { atolOfMax: 2e-7, rtol: 2e-5 },
  /**
   * dB, absolute; compared only above the top_db floor, since below it both sides clamp to
   * a floor set by the clip's own maximum.
   */
  db: { atol: 5e-4, rtol: 0 },
  /** The clip's min-max scaled dB, in [0, 1]: absolute. */
  scaled: { atol: 5e-5, rtol: 0 },
} satisfies { spectrum: TolOfMax; melPower: TolOfMax; db: Tol; scaled: Tol };
