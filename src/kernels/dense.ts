// Dense (fully connected) layer on the GPU: y = x · w + b with x [M, K], w [K, N],
// b [N]. All three GEMMs run on one strided, register-blocked shader
// (shaders/dense_gemm.wgsl); a transposed operand is a change of strides.
// Reference: src/ref/dense.ts.
import { grid1d, type KernelSpec, type Recorder } from './kernel.js';

export interface DenseShape {
  /** Rows of x (the batch). */
  m: number;
  /** Input features. */
  k: number;
  /** Output features. */
  n: number;
}

export const DENSE_GEMM: KernelSpec = {
  shader: 'dense_gemm',
  params: ['rows', 'cols', 'inner', 'a_si', 'a_sk', 'b_sk', 'b_sj', 'accumulate', 'has_bias'].map((f) => [f, 'u32'] as const),
  inputs: ['a', 'b', 'bias'],
  outputs: ['c'],
};

export const DENSE_BACKWARD_BIAS: KernelSpec = {
  shader: 'dense_backward_bias',
  params: [
    ['m', 'u32'],
    ['n', 'u32'],
  ],
  inputs: ['dy'],
  outputs: ['db'],
};

/** Threads per workgroup (WX × WY) and the inner tile BK; each thread owns a 4 × 4 block (TM, TN in the shader). */
export const GEMM_TILE = { WX: 16, WY: 8, BK: 16 } as const;
const TM = 4;
const TN = 4;

interface Gemm {
  rows: number;
  cols: number;
  inner: number;
  a_si: number;
  a_sk: number;
  b_sk: number;
  b_sj: number;
  accumulate: boolean;
}

function gemm(r: Recorder, c: GPUBuffer, a: GPUBuffer, b: GPUBuffer, bias: GPUBuffer | null, g: Gemm): void {
  const { WX, WY } = GEMM_TILE;
  r.dispatch(DENSE_GEMM, {
    params: { ...g, accumulate: g.accumulate ? 1 : 0, has_bias: bias ? 1 : 0 },
    // Without a bias the binding still needs a buffer; the shader never reads it.
    buffers: { a, b, bias: bias ?? b, c },
    constants: { ...GEMM_TILE },
    workgroups: [Math.ceil(g.cols / (WX * TN)), Math.ceil(g.rows / (WY * TM))],
  });
}

/** y[m, n] = sum_k x[m, k] w[k, n] + b[n] (overwrites y). */
export function denseForward(r: Recorder, y: GPUBuffer, x: GPUBuffer, w: GPUBuffer, b: GPUBuffer | null, s: DenseShape): void {
  gemm(r, y, x, w, b, { rows: s.m, cols: s.n, inner: s.k, a_si: s.k, a_sk: 1, b_sk: s.n, b_sj: 1, accumulate: false });
}

/** dx[m, k] += sum_n dy[m, n] w[k, n] (dx = … with `accumulate` false, for a gradient's first writer). */
export function denseBackwardInput(r: Recorder, dx: GPUBuffer, dy: GPUBuffer, w: GPUBuffer, s: DenseShape, accumulate = true): void {
  gemm(r, dx, dy, w, null, { rows: s.m, cols: s.k, inner: s.n, a_si: s.n, a_sk: 1, b_sk: 1, b_sj: s.n, accumulate });
}

/** dw[k, n] += sum_m x[m, k] dy[m, n]; db[n] += sum_m dy[m, n] (db may be null for a layer without bias). */
export function denseBackwardWeight(r: Recorder, dw: GPUBuffer, db: GPUBuffer | null, dy: GPUBuffer, x: GPUBuffer, s: DenseShape): void {
  gemm(r, dw, x, dy, null, { rows: s.k, cols: s.n, inner: s.m, a_si: 1, a_sk: s.k, b_sk: s.n, b_sj: 1, accumulate: true });
  if (db) {
    const WG = 64;
    r.dispatch(DENSE_BACKWARD_BIAS, { params: { m: s.m, n: s.n }, buffers: { dy, db }, constants: { WG }, workgroups: grid1d(r.gpu, s.n, WG) });
  }
}
