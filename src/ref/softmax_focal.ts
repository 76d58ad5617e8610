import type { SoftmaxFocalShape } from '../kernels/softmax_focal.js';

/**
 * Softmax + focal loss in float64, Keras CategoricalFocalCrossentropy(from_logits)
 * with one-hot targets: loss_i = -alpha[y] (1 - q)^gamma log q, q = clip(p_y, eps, 1 - eps);
 * dlogits = d(mean_i loss_i) / d logits, zero where the clip is active.
 */
export function softmaxFocalRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  alpha: ArrayLike<number>,
  s: SoftmaxFocalShape,
): { loss: Float64Array; probs: Float64Array; dlogits: Float64Array; meanLoss: number } {
  const eps = s.eps ?? 1e-7;
  const { n, classes: c, gamma } = s;
  const loss = new Float64Array(n);
  const probs = new Float64Array(n * c);
  const dlogits = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    const row = i * c;
    let mx = -Infinity;
    for (let j = 0; j < c; j++) mx = Math.max(mx, logits[row + j]!);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += probs[row + j] = Math.exp(logits[row + j]! - mx);
    for (let j = 0; j < c; j++) probs[row + j]! /= sum;
    const y = labels[i]!;
    if (y >= c) continue;
    const py = probs[row + y]!;
    const q = Math.min(Math.max(py, eps), 1 - eps);
    const a = alpha[y]!;
    const om = 1 - q;
    loss[i] = -a * om ** gamma * Math.log(q);
    const dldq = a * (gamma * om ** (gamma - 1) * Math.log(q) - om ** gamma / q);
    const g = py >= eps && py <= 1 - eps ? (dldq * py) / n : 0;
    for (let j = 0; j < c; j++) dlogits[row + j] = g * ((j === y ? 1 : 0) - probs[row + j]!);
  }
  return { loss, probs, dlogits, meanLoss: loss.reduce((t, v) => t + v, 0) / n };
}
