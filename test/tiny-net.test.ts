// A tiny MLP trained end to end with the GPU kernels and hand-written wiring:
//   x [16, 8] → dense 8→32 → batchnorm → relu → dense 32→4 → softmax focal loss,
// Adam on every parameter. It must overfit its 16 samples, and its first step's
// gradients must equal the float64 references chained by hand.
import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run, type Recorder } from '../src/kernels/kernel.js';
import { denseBackwardInput, denseBackwardWeight, denseForward, type DenseShape } from '../src/kernels/dense.js';
import { batchnormBackward, batchnormForwardTrain, type BatchnormShape } from '../src/kernels/batchnorm.js';
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { softmaxFocalLoss, type SoftmaxFocalShape } from '../src/kernels/softmax_focal.js';
import { adamUpdate } from '../src/kernels/adam.js';
import { argmax } from '../src/train/fit.js';
import { fill } from '../src/kernels/fill.js';
import { denseBackwardRef, denseForwardRef } from '../src/ref/dense.js';
import { batchnormBackwardRef, batchnormForwardTrainRef } from '../src/ref/batchnorm.js';
import { reluBackwardRef, reluForwardRef } from '../src/ref/relu.js';
import { softmaxFocalRef } from '../src/ref/softmax_focal.js';
import { expectClose, makeRng, normal, uniform } from './util/check.js';

const gpu = await getGpu();

const N = 16;
const IN = 8;
const HIDDEN = 32;
const CLASSES = 4;
const STEPS = 300;
const D1: DenseShape = { m: N, k: IN, n: HIDDEN };
const BN: BatchnormShape = { m: N, c: HIDDEN };
const D2: DenseShape = { m: N, k: HIDDEN, n: CLASSES };
const LOSS: SoftmaxFocalShape = { n: N, classes: CLASSES, gamma: 2 };
const ADAM = { lr: 0.02, beta1: 0.9, beta2: 0.999, eps: 1e-7 };

function glorot(rand: () => number, fanIn: number, fanOut: number): Float32Array {
  return uniform(rand, fanIn * fanOut, -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)));
}

describe('tiny network', () => {
  it('dense → batchnorm → relu → dense → focal loss overfits 16 samples with Adam', async () => {
    const rand = makeRng(2024);
    const x = normal(rand, N * IN);
    const labels = Uint32Array.from({ length: N }, (_, i) => i % CLASSES);
    const init = { w1: glorot(rand, IN, HIDDEN), w2: glorot(rand, HIDDEN, CLASSES) };
    const buf = (n: number) => gpu.upload(new Float32Array(n));

    const xb = gpu.upload(x);
    const labelsb = gpu.upload(labels);
    const alpha = gpu.upload(new Float32Array(CLASSES).fill(0.25));
    const params = {
      w1: gpu.upload(init.w1),
      b1: buf(HIDDEN),
      gamma: buf(HIDDEN),
      beta: buf(HIDDEN),
      w2: gpu.upload(init.w2),
      b2: buf(CLASSES),
    };
    const grads = Object.fromEntries(Object.entries(params).map(([k, b]) => [k, buf(b.size / 4)])) as Record<keyof typeof params, GPUBuffer>;
    const moments = Object.entries(params).map(([k, b]) => ({ k: k as keyof typeof params, m: buf(b.size / 4), v: buf(b.size / 4), n: b.size / 4 }));
    const runMean = buf(HIDDEN);
    const runVar = buf(HIDDEN);
    const [h1, h2, h3, dh1, dh2, dh3] = [0, 1, 2, 3, 4, 5].map(() => buf(N * HIDDEN)) as GPUBuffer[];
    const [mean, invstd] = [buf(HIDDEN), buf(HIDDEN)];
    const [logits, probs, dlogits] = [buf(N * CLASSES), buf(N * CLASSES), buf(N * CLASSES)];
    const loss = buf(N);
    run(gpu, (r) => {
      fill(r, params.gamma, HIDDEN, 1);
      fill(r, runVar, HIDDEN, 1);
    });

    const step = (r: Recorder, t: number) => {
      for (const g of Object.values(grads)) r.clear(g);
      for (const g of [dh1, dh2, dh3]) r.clear(g!);
      denseForward(r, h1!, xb, params.w1, params.b1, D1);
      batchnormForwardTrain(r, h2!, mean, invstd, h1!, params.gamma, params.beta, runMean, runVar, BN);
      reluForward(r, h3!, h2!, N * HIDDEN);
      denseForward(r, logits, h3!, params.w2, params.b2, D2);
      softmaxFocalLoss(r, loss, probs, dlogits, logits, labelsb, alpha, LOSS);
      denseBackwardWeight(r, grads.w2, grads.b2, dlogits, h3!, D2);
      denseBackwardInput(r, dh3!, dlogits, params.w2, D2);
      reluBackward(r, dh2!, dh3!, h3!, N * HIDDEN);
      batchnormBackward(r, dh1!, grads.gamma, grads.beta, dh2!, h1!, mean, invstd, params.gamma, BN);
      denseBackwardWeight(r, grads.w1, grads.b1, dh1!, xb, D1);
      for (const { k, m, v, n } of moments) adamUpdate(r, params[k], grads[k], m, v, { n, ...ADAM, step: t });
    };
    const meanLoss = async () => (await gpu.readF32(loss, N)).reduce((a, b) => a + b, 0) / N;

    // Step 1, then compare its gradients with the references chained in float64.
    run(gpu, (r) => step(r, 1));
    const loss0 = await meanLoss();
    const zeros = new Float64Array(HIDDEN);
    const ones = new Float64Array(HIDDEN).fill(1);
    const a1 = denseForwardRef(x, init.w1, zeros, D1);
    const bn = batchnormForwardTrainRef(a1, ones, zeros, zeros, ones, BN);
    const a3 = reluForwardRef(bn.y);
    const out = softmaxFocalRef(denseForwardRef(a3, init.w2, new Float64Array(CLASSES), D2), labels, new Float64Array(CLASSES).fill(0.25), LOSS);
    const g2 = denseBackwardRef(out.dlogits, a3, init.w2, D2);
    const gbn = batchnormBackwardRef(reluBackwardRef(g2.dx, a3), a1, bn.mean, bn.invstd, ones, BN);
    const g1 = denseBackwardRef(gbn.dx, x, init.w1, D1);
    const tol = { atol: 1e-5, rtol: 1e-3 };
    expect(Math.abs(loss0 - out.meanLoss)).toBeLessThan(1e-5);
    expectClose('tiny net step 1 dw2', await gpu.readF32(grads.w2, HIDDEN * CLASSES), g2.dw, tol);
    expectClose('tiny net step 1 dgamma', await gpu.readF32(grads.gamma, HIDDEN), gbn.dgamma, tol);
    expectClose('tiny net step 1 dw1', await gpu.readF32(grads.w1, IN * HIDDEN), g1.dw, tol);
    expectClose('tiny net step 1 db1 (zero: batch norm removes the bias)', await gpu.readF32(grads.b1, HIDDEN), g1.db, tol);

    const t0 = performance.now();
    for (let t = 2; t <= STEPS; t++) {
      run(gpu, (r) => step(r, t));
      if (t % 100 === 0) console.log(`tiny net step ${t}: mean loss ${(await meanLoss()).toExponential(3)}`);
    }
    const lossEnd = await meanLoss();
    const p = await gpu.readF32(probs, N * CLASSES);
    const acc = Array.from({ length: N }, (_, i) => (argmax(p.subarray(i * CLASSES, (i + 1) * CLASSES)) === labels[i] ? 1 : 0)).reduce((a: number, b) => a + b, 0) / N;
    console.log(`tiny net: loss ${loss0.toFixed(4)} → ${lossEnd.toExponential(3)} in ${STEPS} steps (${((performance.now() - t0) / (STEPS - 1)).toFixed(2)} ms/step), accuracy ${acc}`);
    expect(loss0).toBeGreaterThan(0.1);
    expect(lossEnd).toBeLessThan(1e-3 * loss0);
    expect(acc).toBe(1);
  });
});
