/** Keras' bias-corrected step size: lr * sqrt(1 - beta2^t) / (1 - beta1^t). */
export function adamStepSize(lr: number, beta1: number, beta2: number, step: number): number {
  return (lr * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
}

/** One Adam update of (param, m, v) in place, in float64. */
export function adamUpdateRef(
  param: Float64Array,
  grad: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  s: { lr: number; beta1: number; beta2: number; eps: number; step: number },
): void {
  const lrT = adamStepSize(s.lr, s.beta1, s.beta2, s.step);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    m[i] = s.beta1 * m[i]! + (1 - s.beta1) * g;
    v[i] = s.beta2 * v[i]! + (1 - s.beta2) * g * g;
    param[i]! -= (lrT * m[i]!) / (Math.sqrt(v[i]!) + s.eps);
  }
}
