import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { softmaxFocalLoss, type SoftmaxFocalShape } from '../src/kernels/softmax_focal.js';
import { softmaxFocalRef } from '../src/ref/softmax_focal.js';
import { SOFTMAX_FOCAL_TOL } from '../src/kernels/tolerances.js';
import { expectClose, expectGradient, makeRng, uniform, type Tol } from './util/check.js';

const gpu = await getGpu();

const TOL: Record<string, Tol> = {
  ...SOFTMAX_FOCAL_TOL,
  refGradient: { atol: 1e-9, rtol: 1e-6 },
};

async function runLoss(logits: Float32Array, labels: Uint32Array, alpha: Float32Array, s: SoftmaxFocalShape) {
  const nc = s.n * s.classes;
  const [lb, yb, ab] = [gpu.upload(logits), gpu.upload(labels), gpu.upload(alpha)];
  const [lossb, pb, db] = [gpu.upload(new Float32Array(s.n).fill(Number.NaN)), gpu.upload(new Float32Array(nc)), gpu.upload(new Float32Array(nc).fill(Number.NaN))];
  run(gpu, (r) => softmaxFocalLoss(r, lossb, pb, db, lb, yb, ab, s));
  const out = { loss: await gpu.readF32(lossb, s.n), probs: await gpu.readF32(pb, nc), dlogits: await gpu.readF32(db, nc) };
  for (const b of [lb, yb, ab, lossb, pb, db]) b.destroy();
  return out;
}

const CASES: [string, SoftmaxFocalShape, boolean][] = [
  ['focal gamma 2, batch 1, 7 classes', { n: 1, classes: 7, gamma: 2 }, false],
  ['focal gamma 2, batch 32, 7 classes, class weights', { n: 32, classes: 7, gamma: 2 }, false],
  ['cross-entropy (gamma 0, alpha 1), batch 100, 3 classes', { n: 100, classes: 3, gamma: 0 }, true],
  ['focal gamma 1.5, batch 65, 2 classes', { n: 65, classes: 2, gamma: 1.5 }, false],
];

describe('softmax focal loss', () => {
  for (const [name, s, unitAlpha] of CASES) {
    it(`loss, probabilities and gradient match the reference: ${name}`, async () => {
      const rand = makeRng(s.n * 10 + s.classes);
      const logits = uniform(rand, s.n * s.classes, -3, 3);
      const labels = Uint32Array.from({ length: s.n }, () => Math.floor(rand() * s.classes));
      const alpha = unitAlpha ? new Float32Array(s.classes).fill(1) : uniform(rand, s.classes, 0.25, 1);
      const got = await runLoss(logits, labels, alpha, s);
      const ref = softmaxFocalRef(logits, labels, alpha, s);
      expectClose(`softmax probs ${name}`, got.probs, ref.probs, TOL.probs!);
      expectClose(`focal loss ${name}`, got.loss, ref.loss, TOL.loss!);
      expectClose(`focal dlogits ${name}`, got.dlogits, ref.dlogits, TOL.dlogits!);
    });
  }

  it('gamma 0 with alpha 1 is -log softmax of the true class', () => {
    const s: SoftmaxFocalShape = { n: 4, classes: 5, gamma: 0 };
    const rand = makeRng(31);
    const logits = uniform(rand, 20, -4, 4);
    const labels = Uint32Array.from([0, 4, 2, 2]);
    const ref = softmaxFocalRef(logits, labels, new Float64Array(5).fill(1), s);
    const ce = Array.from(labels, (y, i) => {
      const row = Array.from(logits.subarray(i * 5, i * 5 + 5));
      return Math.log(row.reduce((t, v) => t + Math.exp(v), 0)) - row[y]!;
    });
    expectClose('cross-entropy by hand', ref.loss, ce, { atol: 1e-12, rtol: 1e-12 });
  });

  it('is stable for large logits, and the clip zeroes the gradient of a saturated row', async () => {
    const s: SoftmaxFocalShape = { n: 2, classes: 3, gamma: 2 };
    const logits = new Float32Array([500, 0, -500, 1000, 990, 0]);
    const labels = new Uint32Array([0, 1]);
    const alpha = new Float32Array([1, 1, 1]);
    const got = await runLoss(logits, labels, alpha, s);
    const ref = softmaxFocalRef(logits, labels, alpha, s);
    expect(got.loss.every(Number.isFinite) && got.dlogits.every(Number.isFinite)).toBe(true);
    expect(Array.from(got.dlogits.subarray(0, 3))).toEqual([0, 0, 0]);
    expectClose('saturated focal loss', got.loss, ref.loss, { atol: 1e-4, rtol: 1e-4 });
    expectClose('saturated focal dlogits', got.dlogits, ref.dlogits, { atol: 1e-6, rtol: 1e-4 });
  });

  for (const [name, gamma, unitAlpha] of [
    ['focal gamma 2 with class weights', 2, false],
    ['cross-entropy', 0, true],
  ] as const) {
    it(`reference gradient matches finite differences of the mean loss: ${name}`, () => {
      const s: SoftmaxFocalShape = { n: 4, classes: 5, gamma };
      const rand = makeRng(41 + gamma);
      const logits = uniform(rand, s.n * s.classes, -2, 2);
      const labels = Uint32Array.from([1, 0, 4, 1]);
      const alpha = unitAlpha ? new Float64Array(s.classes).fill(1) : uniform(rand, s.classes, 0.25, 1);
      const ref = softmaxFocalRef(logits, labels, alpha, s);
      expectGradient(`focal dlogits (${name})`, (z) => softmaxFocalRef(z, labels, alpha, s).meanLoss, logits, ref.dlogits, TOL.refGradient!);
    });
  }
});
