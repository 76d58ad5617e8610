// The ops `ser doctor --kernels` checks (kernel-check.ts runs them): each GPU op on
// a few small shapes chosen to hit the edge cases of its dispatch — batch 1, 1×1
// spatial, sizes not a multiple of the workgroup, the vec4 and scalar paths —
// forward and backward against the float64 reference of src/ref; conv3d with every
// kernel and blocking `ser tune` may choose. Tolerances are the op's tests' own, from
// src/kernels/tolerances.ts, which explains each.
import type { Gpu } from '../kernels/gpu.js';
import { run } from '../kernels/kernel.js';
import { axpy } from '../kernels/axpy.js';
import { reluBackward, reluForward } from '../kernels/relu.js';
import { gapBackward, gapForward, type GapShape } from '../kernels/gap.js';
import { denseBackwardInput, denseBackwardWeight, denseForward, type DenseShape } from '../kernels/dense.js';
import { maxpool3dBackward, maxpool3dForward, maxpool3dOutShape, type Maxpool3dShape } from '../kernels/maxpool3d.js';
import { softmaxFocalLoss, type SoftmaxFocalShape } from '../kernels/softmax_focal.js';
import { adamUpdate } from '../kernels/adam.js';
import { batchnormBackward, batchnormForwardInference, batchnormForwardTrain, batchnormStatistics, type BatchnormShape } from '../kernels/batchnorm.js';
import { bnReluMaxpoolBackward, bnReluMaxpoolForward, type BnReluMaxpoolShape } from '../kernels/bn_relu_maxpool.js';
import { dropoutBackward, dropoutForward } from '../kernels/dropout.js';
import { conv3dBackwardInput, conv3dBackwardWeight, conv3dForward, conv3dOutShape, type Conv3dPass, type Conv3dShape } from '../kernels/conv3d.js';
import { conv3dCandidates } from '../kernels/conv3d_tune.js';
import { MelFrontend, type FrontendSettings, type StftPath } from '../dsp/frontend.js';
import { axpyRef } from '../ref/axpy.js';
import { reluBackwardRef, reluForwardRef } from '../ref/relu.js';
import { gapBackwardRef, gapForwardRef } from '../ref/gap.js';
import { denseBackwardRef, denseForwardRef } from '../ref/dense.js';
import { maxpool3dBackwardRef, maxpool3dForwardRef } from '../ref/maxpool3d.js';
import { softmaxFocalRef } from '../ref/softmax_focal.js';
import { adamUpdateRef } from '../ref/adam.js';
import { batchnormBackwardRef, batchnormForwardInferenceRef, batchnormForwardTrainRef } from '../ref/batchnorm.js';
import { bnReluMaxpoolRef } from '../ref/bn_relu_maxpool.js';
import { dropoutBackwardRef, dropoutForwardRef } from '../ref/dropout.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dForwardRef } from '../ref/conv3d.js';
import { melSpectrogramRef } from '../ref/melspec.js';
import {
  ADAM_TOL,
  AXPY_TOL,
  BATCHNORM_TOL,
  BN_RELU_MAXPOOL_TOL,
  conv3dTolFor,
  DENSE_TOL,
  DROPOUT_TOL,
  GAP_TOL,
  MAXPOOL3D_TOL,
  MEL_TOL,
  RELU_TOL,
  SOFTMAX_FOCAL_TOL,
} from '../kernels/tolerances.js';
import { maxAbs } from '../util/tolerance.js';
import type { CheckContext, OpCheck } from './kernel-check.js';

const plus = (a: ArrayLike<number>, b: ArrayLike<number>): Float64Array => Float64Array.from(a, (v, i) => v + b[i]!);
const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

const axpyCheck: OpCheck = {
  op: 'axpy',
  async run(c) {
    for (const n of [1, 257, 100_003]) {
      const x = c.uniform(n);
      const y = c.uniform(n);
      const [xb, yb] = [c.upload(x), c.upload(y)];
      run(c.gpu, (r) => axpy(r, n, 0.5, xb, yb));
      c.close(`axpy n=${n}`, await c.read(yb, n), axpyRef(0.5, x, y), AXPY_TOL);
    }
  },
};

const reluCheck: OpCheck = {
  op: 'relu forward + backward',
  async run(c) {
    for (const n of [1, 257, 4099]) {
      const [x, dy, dx0] = [c.uniform(n), c.uniform(n), c.uniform(n)];
      const [xb, dyb, dxb, yb] = [c.upload(x), c.upload(dy), c.upload(dx0), c.output(n)];
      run(c.gpu, (r) => {
        reluForward(r, yb, xb, n);
        reluBackward(r, dxb, dyb, yb, n);
      });
      const y = reluForwardRef(x);
      c.close(`relu forward n=${n}`, await c.read(yb, n), y, RELU_TOL.forward);
      c.close(`relu backward n=${n}`, await c.read(dxb, n), plus(reluBackwardRef(dy, y), dx0), RELU_TOL.backward);
    }
  },
};

const gapCheck: OpCheck = {
  op: 'global average pooling',
  async run(c) {
    const shapes: GapShape[] = [{ n: 1, spatial: 1, c: 5 }, { n: 3, spatial: 37, c: 101 }];
    for (const s of shapes) {
      const [x, dy] = [c.uniform(s.n * s.spatial * s.c), c.uniform(s.n * s.c)];
      const dx0 = c.uniform(x.length);
      const [xb, dyb, dxb, yb] = [c.upload(x), c.upload(dy), c.upload(dx0), c.output(dy.length)];
      run(c.gpu, (r) => {
        gapForward(r, yb, xb, s);
        gapBackward(r, dxb, dyb, s);
      });
      const label = `gap ${s.n}×${s.spatial}×${s.c}`;
      c.close(`${label} forward`, await c.read(yb, dy.length), gapForwardRef(x, s), GAP_TOL.forward);
      c.close(`${label} backward`, await c.read(dxb, x.length), plus(gapBackwardRef(dy, s), dx0), GAP_TOL.backward);
    }
  },
};

const denseCheck: OpCheck = {
  op: 'dense (GEMM) forward + backward',
  async run(c) {
    const shapes: DenseShape[] = [{ m: 1, k: 5, n: 3 }, { m: 33, k: 37, n: 65 }];
    for (const s of shapes) {
      const [x, w, b, dy] = [c.uniform(s.m * s.k), c.uniform(s.k * s.n), c.uniform(s.n), c.uniform(s.m * s.n)];
      const [dx0, dw0, db0] = [c.uniform(x.length), c.uniform(w.length), c.uniform(b.length)];
      const [xb, wb, bb, dyb, dxb, dwb, dbb] = [x, w, b, dy, dx0, dw0, db0].map((a) => c.upload(a)) as GPUBuffer[];
      const yb = c.output(s.m * s.n);
      run(c.gpu, (r) => {
        denseForward(r, yb, xb!, wb!, bb!, s);
        denseBackwardInput(r, dxb!, dyb!, wb!, s);
        denseBackwardWeight(r, dwb!, dbb!, dyb!, xb!, s);
      });
      const label = `dense ${s.m}×${s.k}→${s.n}`;
      const g = denseBackwardRef(dy, x, w, s);
      c.close(`${label} forward`, await c.read(yb, s.m * s.n), denseForwardRef(x, w, b, s), DENSE_TOL.forward);
      c.close(`${label} backward_input`, await c.read(dxb!, x.length), plus(g.dx, dx0), DENSE_TOL.backward);
      c.close(`${label} backward_weight dw`, await c.read(dwb!, w.length), plus(g.dw, dw0), DENSE_TOL.backward);
      c.close(`${label} backward_weight db`, await c.read(dbb!, b.length), plus(g.db, db0), DENSE_TOL.backward);
    }
  },
};

const maxpoolCheck: OpCheck = {
  op: 'maxpool3d forward + backward',
  async run(c) {
    const shapes: Maxpool3dShape[] = [
      { n: 1, d: 1, h: 1, w: 1, c: 3, pd: 1, ph: 1, pw: 1 },
      { n: 2, d: 3, h: 5, w: 15, c: 7, pd: 1, ph: 2, pw: 2 },
      { n: 1, d: 5, h: 4, w: 7, c: 33, pd: 2, ph: 2, pw: 2 },
    ];
    for (const s of shapes) {
      const { od, oh, ow } = maxpool3dOutShape(s);
      const count = s.n * od * oh * ow * s.c;
      const [x, dy] = [c.uniform(s.n * s.d * s.h * s.w * s.c), c.uniform(count)];
      const dx0 = c.uniform(x.length);
      const [xb, dyb, dxb, yb, ab] = [c.upload(x), c.upload(dy), c.upload(dx0), c.output(count), c.upload(new Uint32Array(count))];
      run(c.gpu, (r) => {
        maxpool3dForward(r, yb, ab, xb, s);
        maxpool3dBackward(r, dxb, dyb, ab, s);
      });
      const label = `maxpool3d ${s.d}×${s.h}×${s.w}×${s.c} by ${s.pd}×${s.ph}×${s.pw}`;
      const ref = maxpool3dForwardRef(x, s);
      c.close(`${label} forward`, await c.read(yb, count), ref.y, MAXPOOL3D_TOL.forward);
      c.equal(`${label} argmax`, await c.gpu.readU32(ab, count), ref.argmax);
      c.close(`${label} backward`, await c.read(dxb, x.length), plus(maxpool3dBackwardRef(dy, ref.argmax, s), dx0), MAXPOOL3D_TOL.backward);
    }
  },
};

const softmaxFocalCheck: OpCheck = {
  op: 'softmax + focal loss',
  async run(c) {
    const cases: [SoftmaxFocalShape, boolean][] = [
      [{ n: 1, classes: 7, gamma: 2 }, false],
      [{ n: 65, classes: 2, gamma: 1.5 }, false],
      [{ n: 100, classes: 3, gamma: 0 }, true],
    ];
    for (const [s, unitAlpha] of cases) {
      const nc = s.n * s.classes;
      const logits = c.uniform(nc, -3, 3);
      const labels = Uint32Array.from({ length: s.n }, () => c.rng.int(s.classes));
      const alpha = unitAlpha ? new Float32Array(s.classes).fill(1) : c.uniform(s.classes, 0.25, 1);
      const [lb, yb, ab, lossb, pb, db] = [c.upload(logits), c.upload(labels), c.upload(alpha), c.output(s.n), c.output(nc), c.output(nc)];
      run(c.gpu, (r) => softmaxFocalLoss(r, lossb, pb, db, lb, yb, ab, s));
      const ref = softmaxFocalRef(logits, labels, alpha, s);
      const label = `batch ${s.n}, ${s.classes} classes, gamma ${s.gamma}`;
      c.close(`${label} probs`, await c.read(pb, nc), ref.probs, SOFTMAX_FOCAL_TOL.probs);
      c.close(`${label} loss`, await c.read(lossb, s.n), ref.loss, SOFTMAX_FOCAL_TOL.loss);
      c.close(`${label} dlogits`, await c.read(db, nc), ref.dlogits, SOFTMAX_FOCAL_TOL.dlogits);
    }
  },
};

const adamCheck: OpCheck = {
  op: 'adam update',
  async run(c) {
    const hp = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-7 };
    for (const n of [1, 257]) {
      const p0 = c.uniform(n);
      const [param, m, v] = [Float64Array.from(p0), new Float64Array(n), new Float64Array(n)];
      const [pb, mb, vb, gb] = [c.upload(p0), c.upload(new Float32Array(n)), c.upload(new Float32Array(n)), c.upload(new Float32Array(n))];
      for (let step = 1; step <= 3; step++) {
        // Gradients spanning orders of magnitude, as real ones do.
        const g = c.uniform(n).map((x, i) => x * 10 ** ((i % 5) - 3));
        c.gpu.device.queue.writeBuffer(gb, 0, g);
        run(c.gpu, (r) => adamUpdate(r, pb, gb, mb, vb, { n, ...hp, step }));
        adamUpdateRef(param, g, m, v, { ...hp, step });
      }
      c.close(`adam n=${n} param after 3 steps`, await c.read(pb, n), param, ADAM_TOL.param);
      c.close(`adam n=${n} m`, await c.read(mb, n), m, ADAM_TOL.moments);
      c.close(`adam n=${n} v`, await c.read(vb, n), v, ADAM_TOL.moments);
    }
  },
};

const batchnormCheck: OpCheck = {
  op: 'batchnorm train/inference + backward',
  async run(c) {
    // Batch 1 (zero variance), the scalar path (C not a multiple of 4), the vec4 path, several row chunks.
    const shapes: BatchnormShape[] = [{ m: 1, c: 5 }, { m: 91, c: 6 }, { m: 6001, c: 8 }, { m: 5000, c: 37 }];
    for (const s of shapes) {
      const { m, c: ch } = s;
      // An offset mean makes a one-pass E[x²] − E[x]² variance visibly wrong.
      const x = c.normal(m * ch, 3, 2);
      const [gamma, beta, rm0, rv0] = [c.uniform(ch, 0.5, 1.5), c.uniform(ch), c.uniform(ch), c.uniform(ch, 0.5, 2)];
      const [dy, dx0, dg0, db0] = [c.uniform(m * ch), c.uniform(m * ch), c.uniform(ch), c.uniform(ch)];
      const [xb, gb, bb, rmb, rvb, dyb, dxb, dgb, dbb] = [x, gamma, beta, rm0, rv0, dy, dx0, dg0, db0].map((a) => c.upload(a)) as GPUBuffer[];
      const [yb, meanb, invb, yib] = [c.output(m * ch), c.output(ch), c.output(ch), c.output(m * ch)];
      run(c.gpu, (r) => {
        batchnormForwardInference(r, yib, xb!, gb!, bb!, rmb!, rvb!, s);
        batchnormForwardTrain(r, yb, meanb, invb, xb!, gb!, bb!, rmb!, rvb!, s);
        batchnormBackward(r, dxb!, dgb!, dbb!, dyb!, xb!, meanb, invb, gb!, s);
      });
      const label = `batchnorm M ${m}, C ${ch}`;
      c.close(`${label} inference`, await c.read(yib, m * ch), batchnormForwardInferenceRef(x, gamma, beta, rm0, rv0, s), BATCHNORM_TOL.inference);
      const ref = batchnormForwardTrainRef(x, gamma, beta, rm0, rv0, s);
      c.close(`${label} y`, await c.read(yb, m * ch), ref.y, BATCHNORM_TOL.forward);
      c.close(`${label} mean`, await c.read(meanb, ch), ref.mean, BATCHNORM_TOL.stats);
      c.close(`${label} invstd`, await c.read(invb, ch), ref.invstd, BATCHNORM_TOL.stats);
      c.close(`${label} running mean`, await c.read(rmb!, ch), ref.runMean, BATCHNORM_TOL.stats);
      c.close(`${label} running var`, await c.read(rvb!, ch), ref.runVar, BATCHNORM_TOL.stats);
      const g = batchnormBackwardRef(dy, x, ref.mean, ref.invstd, gamma, s);
      c.close(`${label} dx`, await c.read(dxb!, m * ch), plus(g.dx, dx0), BATCHNORM_TOL.backward);
      c.close(`${label} dgamma`, await c.read(dgb!, ch), plus(g.dgamma, dg0), BATCHNORM_TOL.backward);
      c.close(`${label} dbeta`, await c.read(dbb!, ch), plus(g.dbeta, db0), BATCHNORM_TOL.backward);
    }
  },
};

const bnReluMaxpoolCheck: OpCheck = {
  op: 'fused batchnorm→relu→maxpool',
  async run(c) {
    const shapes: BnReluMaxpoolShape[] = [
      { n: 1, d: 1, h: 2, w: 2, c: 4, pd: 1, ph: 2, pw: 2 },
      { n: 2, d: 3, h: 5, w: 7, c: 12, pd: 1, ph: 2, pw: 2 },
      { n: 3, d: 4, h: 4, w: 6, c: 7, pd: 2, ph: 2, pw: 2 },
    ];
    for (const s of shapes) {
      const { od, oh, ow } = maxpool3dOutShape(s);
      const count = s.n * od * oh * ow * s.c;
      const xLen = s.n * s.d * s.h * s.w * s.c;
      // Gammas of both signs: a negative one turns the window's minimum of x into its maximum.
      const [x, gamma, beta, rm0, rv0, dy] = [c.normal(xLen, 1, 2), c.uniform(s.c, -1.5, 1.5), c.uniform(s.c, -0.5, 0.5), c.uniform(s.c), c.uniform(s.c, 0.5, 2), c.uniform(count)];
      const [xb, gb, bb, rmb, rvb, dyb] = [x, gamma, beta, rm0, rv0, dy].map((a) => c.upload(a)) as GPUBuffer[];
      const [yb, ab, meanb, invb, dxb, dgb, dbb] = [c.output(count), c.upload(new Uint32Array(count)), c.output(s.c), c.output(s.c), c.upload(new Float32Array(xLen)), c.upload(new Float32Array(s.c)), c.upload(new Float32Array(s.c))];
      const bn = { m: xLen / s.c, c: s.c };
      run(c.gpu, (r) => {
        batchnormStatistics(r, meanb, invb, xb!, rmb!, rvb!, bn);
        bnReluMaxpoolForward(r, yb, ab, xb!, gb!, bb!, meanb, invb, s, false);
        bnReluMaxpoolBackward(r, dxb, dgb, dbb, dyb!, ab, xb!, meanb, invb, gb!, s);
      });
      const label = `bn_relu_maxpool ${s.n}×${s.d}×${s.h}×${s.w}×${s.c}`;
      const ref = bnReluMaxpoolRef(x, gamma, beta, rm0, rv0, s, true);
      c.close(`${label} forward`, await c.read(yb, count), ref.y, BN_RELU_MAXPOOL_TOL.forward);
      const g = ref.backward(dy);
      c.close(`${label} dx`, await c.read(dxb, xLen), g.dx, BN_RELU_MAXPOOL_TOL.backward);
      c.close(`${label} dgamma`, await c.read(dgb, s.c), g.dgamma, BN_RELU_MAXPOOL_TOL.backward);
      c.close(`${label} dbeta`, await c.read(dbb, s.c), g.dbeta, BN_RELU_MAXPOOL_TOL.backward);
    }
  },
};

const dropoutCheck: OpCheck = {
  op: 'dropout forward + backward',
  async run(c) {
    for (const n of [1, 3, 257, 4099]) {
      const s = { n, rate: 0.3, seed: 1234, step: 7 };
      const [x, dy, dx0] = [c.uniform(n, 0.5, 1.5), c.uniform(n), c.uniform(n)];
      const [xb, dyb, dxb, yb] = [c.upload(x), c.upload(dy), c.upload(dx0), c.output(n)];
      run(c.gpu, (r) => {
        dropoutForward(r, yb, xb, s);
        dropoutBackward(r, dxb, dyb, s);
      });
      c.close(`dropout n=${n} forward`, await c.read(yb, n), dropoutForwardRef(x, s.rate, s.seed, s.step), DROPOUT_TOL.forward);
      c.close(`dropout n=${n} backward`, await c.read(dxb, n), plus(dropoutBackwardRef(dy, s.rate, s.seed, s.step), dx0), DROPOUT_TOL.backward);
    }
  },
};

const conv = (n: number, d: number, h: number, w: number, cin: number, cout: number, k: [number, number, number], padding: 'same' | 'valid'): Conv3dShape => ({
  n, d, h, w, cin, cout, kd: k[0], kh: k[1], kw: k[2], padding,
});

/**
 * The first layer's Cin 1 and 1×5×5 (8 channels); batch 1 with odd channels; kd > 1;
 * 1×1 spatial; 16 channels (the blocks of 8, 16 and 32 channels all run); a partial
 * second block of 32 channels.
 */
const CONV_SHAPES: Conv3dShape[] = [
  conv(2, 3, 11, 9, 1, 8, [1, 5, 5], 'same'),
  conv(2, 2, 6, 5, 8, 16, [1, 3, 3], 'same'),
  conv(1, 2, 7, 6, 3, 5, [1, 3, 3], 'valid'),
  conv(2, 4, 5, 6, 7, 7, [3, 3, 3], 'same'),
  conv(3, 1, 1, 1, 5, 3, [1, 1, 1], 'same'),
  conv(1, 2, 5, 6, 36, 40, [1, 3, 3], 'same'),
];

/** Random x, w, b and dy of a conv3d shape, uploaded, with the float64 reference's results. */
async function conv3dCase(c: CheckContext, s: Conv3dShape) {
  const yLen = size(conv3dOutShape(s));
  const x = c.uniform(s.n * s.d * s.h * s.w * s.cin);
  const [w, b, dy] = [c.uniform(s.kd * s.kh * s.kw * s.cin * s.cout), c.uniform(s.cout), c.uniform(yLen)];
  const [xb, wb, bb, dyb] = [x, w, b, dy].map((a) => c.upload(a)) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
  return {
    label: `${s.n}×${s.d}×${s.h}×${s.w}, ${s.cin}→${s.cout}, ${s.kd}×${s.kh}×${s.kw} ${s.padding}`,
    xLen: x.length,
    yLen,
    buffers: { xb, wb, bb, dyb },
    ref: { y: conv3dForwardRef(x, w, b, s), dx: conv3dBackwardInputRef(dy, w, s), ...conv3dBackwardWeightRef(dy, x, s) },
  };
}

/** One pass with every kernel and blocking `ser tune` may choose for the shape (conv3dCandidates); backward_weight with the bias gradient. */
function conv3dCandidatesCheck(direction: Conv3dPass): OpCheck {
  return {
    op: `conv3d ${direction}, every tune candidate`,
    async run(c: CheckContext) {
      for (const s of CONV_SHAPES) {
        const k = await conv3dCase(c, s);
        const { xb, wb, bb, dyb } = k.buffers;
        for (const cand of conv3dCandidates(c.gpu, direction, s)) {
          if (direction === 'forward') {
            const yb = c.output(k.yLen);
            run(c.gpu, (r) => conv3dForward(r, yb, xb, wb, bb, s, cand.options));
            c.close(`${cand.label}, ${k.label}`, await c.read(yb, k.yLen), k.ref.y, conv3dTolFor(cand.options).forward);
          } else if (direction === 'backward_input') {
            const dxb = c.upload(new Float32Array(k.xLen));
            run(c.gpu, (r) => conv3dBackwardInput(r, dxb, dyb, wb, s, cand.options));
            c.close(`${cand.label}, ${k.label}`, await c.read(dxb, k.xLen), k.ref.dx, conv3dTolFor(cand.options).backward_input);
          } else {
            const [dwb, dbb] = [c.upload(new Float32Array(k.ref.dw.length)), c.upload(new Float32Array(s.cout))];
            run(c.gpu, (r) => conv3dBackwardWeight(r, dwb, dbb, dyb, xb, s, cand.options));
            c.close(`dw, ${cand.label}, ${k.label}`, await c.read(dwb, k.ref.dw.length), k.ref.dw, conv3dTolFor(cand.options).backward_weight);
            c.close(`db, ${cand.label}, ${k.label}`, await c.read(dbb, s.cout), k.ref.db, conv3dTolFor(cand.options).backward_bias);
          }
        }
      }
    },
  };
}

/** A chirp plus seeded noise. */
function chirp(c: CheckContext, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(0.00002 * i * i + 0.1 * i) + 0.1 * (c.rng.next() - 0.5));
}

function melCheck(path: StftPath): OpCheck {
  return {
    op: `mel front end (${path} STFT)`,
    async run(c) {
      const small: Partial<FrontendSettings> = { nFft: 512, hop: 160, nMels: 40, fmin: 20, fmax: 8000, melScale: 'htk', melNorm: 'none' };
      for (const [name, settings, lengths] of [
        ['n_fft 512, hop 160', small, [1, 511, 4001]],
        ['librosa defaults', {}, [1, 2047, 5000]],
      ] as const) {
        const fe = new MelFrontend(c.gpu, settings, path);
        const s = fe.settings;
        const clips = lengths.map((n) => chirp(c, n));
        const got = await fe.melBatch(clips);
        clips.forEach((x, i) => {
          const want = melSpectrogramRef(x, s);
          const label = `${name}, ${x.length} samples`;
          // dB only above the top_db floor: below it both sides clamp to a floor set by the clip's own maximum.
          c.close(`${label} mel power`, got[i]!.power, want.power, { atol: MEL_TOL.melPower.atolOfMax * maxAbs(want.power), rtol: MEL_TOL.melPower.rtol });
          c.close(`${label} dB`, got[i]!.db, want.db, MEL_TOL.db, (j) => want.db[j]! > -s.topDb);
          c.close(`${label} scaled`, got[i]!.scaled, want.scaled, MEL_TOL.scaled);
        });
      }
    },
  };
}

/** Every op, with every conv3d kernel and blocking this device may run and each STFT path that fits it. */
export function opChecks(gpu: Gpu): OpCheck[] {
  const paths: StftPath[] = new MelFrontend(gpu).stftPath === 'fused' ? ['fused', 'staged'] : ['staged'];
  return [
    axpyCheck,
    reluCheck,
    gapCheck,
    denseCheck,
    maxpoolCheck,
    softmaxFocalCheck,
    adamCheck,
    batchnormCheck,
    bnReluMaxpoolCheck,
    dropoutCheck,
    conv3dCandidatesCheck('forward'),
    conv3dCandidatesCheck('backward_input'),
    conv3dCandidatesCheck('backward_weight'),
    ...paths.map(melCheck),
  ];
}
