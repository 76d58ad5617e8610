/** Index of each row's largest entry (the first on ties). */
export function argmaxRowsRef(probs: ArrayLike<number>, n: number, c: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let arg = 0;
    for (let j = 1; j < c; j++) if (probs[i * c + j]! > probs[i * c + arg]!) arg = j;
    out[i] = arg;
  }
  return out;
}

/** counts[label, pred] per sample, [C, C] row = true class; out-of-range entries skipped. */
export function confusionCountsRef(pred: ArrayLike<number>, labels: ArrayLike<number>, c: number): Uint32Array {
  const counts = new Uint32Array(c * c);
  for (let i = 0; i < pred.length; i++) if (labels[i]! < c && pred[i]! < c) counts[labels[i]! * c + pred[i]!]!++;
  return counts;
}

/** trace / total of a confusion matrix, 0 when empty. */
export function accuracyRef(counts: ArrayLike<number>, c: number): number {
  let total = 0;
  let hit = 0;
  for (let t = 0; t < c; t++)
    for (let p = 0; p < c; p++) {
      total += counts[t * c + p]!;
      if (t === p) hit += counts[t * c + p]!;
    }
  return total > 0 ? hit / total : 0;
}
