// The peer of `ser bench --compare tfjs`: the same network, loss and optimiser
// written with TensorFlow.js ops on TF.js's own WebGPU backend, driven through
// the same Dawn instance (hence the same adapter) as our kernels.
//
// Equivalence with src/model/ser3dcnn.ts and src/train/engine.ts, op by op:
//   Conv3D 'same' + bias     tf.conv3d(x [N,D,H,W,C], w [kd,kh,kw,cin,cout], stride 1, 'same') + b
//   BatchNormalization       TF.js batch norm is rank ≤ 4, and normalises the last axis over all
//                            the others, so the conv output [N,D,H,W,C] is viewed as
//                            [N, D·H, W, C] for bias, batch norm and ReLU (TF.js's WebGPU
//                            broadcasting add also fails to compile for rank 5) and reshaped
//                            back for pooling; a reshape changes no value and no FLOP count.
//                            Training uses tf.moments over every axis but the last (biased variance) and
//                            tf.batchNorm with epsilon 1e-3; the moving statistics are updated
//                            with momentum 0.99; inference uses the moving statistics — the
//                            same math as Keras' layer and as ours.
//   ReLU, MaxPool 1×2×2      tf.relu; tf.maxPool3d(window [1,2,2], strides [1,2,2], 'valid')
//   Dropout                  tf.dropout (inverted; training only; the masks differ, the work does not)
//   GAP                      tf.mean over axes [1,2,3]
//   Dense                    tf.matMul(x, w [in,out]) + b
//   focal loss               softmax, q = p[y] clipped to [1e-7, 1 − 1e-7],
//                            loss = mean(−alpha[y] · (1 − q)^gamma · log q)
//   Adam                     tf.train.adam(lr, 0.9, 0.999, 1e-7) via optimizer.minimize
// A training step is one optimizer.minimize plus a readback of the scalar loss;
// a forward is inference-mode logits → softmax plus a readback of the
// probabilities: the same work, FLOPs and readbacks as Engine.trainStep and
// Engine.predictBatch. The parameters are copied from one of our models, so the
// two forwards can be checked against each other before either is timed.
import type { Gpu } from '../src/kernels/gpu.js';
import type { ModelConfig, Ser3dCnn } from '../src/model/ser3dcnn.js';

import type { AdamOptimizer, Scalar, Tensor as TfTensor, Tensor5D, Variable as TfVariable } from '@tensorflow/tfjs';

type Tf = typeof import('@tensorflow/tfjs');

const CONV_DROPOUT = [0.2, 0.3, 0.3, 0.3];
const DENSE_DROPOUT = [0.4, 0.3];
const BN_EPS = 1e-3;
const BN_MOMENTUM = 0.99;
const CLIP = 1e-7;

let loaded: Promise<Tf> | null = null;
let peerDeviceError: string | null = null;

/** Throws the first error TF.js's device reported, if any. */
function checkPeerDevice(): void {
  if (peerDeviceError !== null) throw new Error(`TF.js's WebGPU device reported: ${peerDeviceError}`);
}

/**
 * TF.js with its WebGPU backend active on `gpu`'s Dawn instance. The backend
 * registers itself at import time only if `navigator.gpu` exists, so the
 * instance is installed there first; `gpu` keeps it alive for the whole run
 * (Dawn crashes if the instance is garbage-collected).
 */
export function loadTfjs(gpu: Gpu): Promise<Tf> {
  loaded ??= (async () => {
    if (!gpu.instance) throw new Error('the Gpu has no Dawn instance to share with TF.js');
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpu.instance }, configurable: true, writable: true });
    const mod = (await import('@tensorflow/tfjs')) as Tf & { default?: Tf };
    const tf = mod.default ?? mod;
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu') {
      throw new Error(`TF.js did not start its webgpu backend (active: ${tf.getBackend()})`);
    }
    // TF.js leaves its device's errors to Dawn's default handler, which prints them
    // (into --json output) and lets the peer go on with wrong values; keep the first
    // instead, for the peer's next call to throw.
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    if (device) {
      device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
        ev.preventDefault();
        peerDeviceError ??= ev.error.message.split('\n')[0]!;
      };
    }
    return tf;
  })();
  return loaded;
}

interface BnVars {
  gamma: TfVariable;
  beta: TfVariable;
  mean: TfVariable;
  variance: TfVariable;
}

interface Layer {
  w: TfVariable;
  b: TfVariable;
  bn: BnVars | null;
}

export class TfjsPeer {
  private readonly optimizer: AdamOptimizer;
  private readonly alphaT: TfTensor;
  private readonly trainable: TfVariable[];

  private constructor(
    private readonly tf: Tf,
    readonly config: ModelConfig,
    private readonly convs: Layer[],
    private readonly denses: Layer[],
    alpha: Float32Array,
    private readonly gamma: number,
    lr: number,
  ) {
    this.alphaT = tf.tensor1d(alpha);
    this.optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-7);
    this.trainable = [...convs, ...denses].flatMap((l) => [l.w, l.b, ...(l.bn ? [l.bn.gamma, l.bn.beta] : [])]);
  }

  /** A peer holding a copy of `model`'s current parameters and batch-norm statistics. */
  static async fromModel(gpu: Gpu, model: Ser3dCnn, alpha: Float32Array, gamma: number, lr = 1e-3): Promise<TfjsPeer> {
    const tf = await loadTfjs(gpu);
    peerDeviceError = null; // a new peer (another batch size) starts clean
    const vars = new Map<string, TfVariable>();
    for (const t of model.namedTensors()) {
      const data = await gpu.readF32(t.buffer, t.size);
      vars.set(t.name, tf.variable(tf.tensor(data, [...t.shape]), t.requiresGrad, `peer.${t.name}`));
    }
    const get = (name: string): TfVariable => {
      const v = vars.get(name);
      if (!v) throw new Error(`model has no tensor ${name}`);
      return v;
    };
    const bn = (name: string): BnVars => ({
      gamma: get(`${name}.gamma`),
      beta: get(`${name}.beta`),
      mean: get(`${name}.moving_mean`),
      variance: get(`${name}.moving_variance`),
    });
    const convs: Layer[] = [];
    const denses: Layer[] = [];
    for (let i = 1; vars.has(`conv${i}.kernel`); i++) convs.push({ w: get(`conv${i}.kernel`), b: get(`conv${i}.bias`), bn: bn(`bn${i}`) });
    for (let i = 1; vars.has(`dense${i}.kernel`); i++) {
      const bnName = `bn${convs.length + i}`;
      denses.push({ w: get(`dense${i}.kernel`), b: get(`dense${i}.bias`), bn: vars.has(`${bnName}.gamma`) ? bn(bnName) : null });
    }
    return new TfjsPeer(tf, model.config, convs, denses, alpha, gamma, lr);
  }

  get backend(): string {
    return this.tf.getBackend();
  }

  /** Batch norm over the last axis of a rank-2 or rank-4 tensor. */
  private batchnorm(x: TfTensor, p: BnVars, training: boolean): TfTensor {
    const tf = this.tf;
    if (!training) return tf.batchNorm(x, p.mean, p.variance, p.beta, p.gamma, BN_EPS);
    const axes = x.shape.map((_, i) => i).slice(0, -1);
    const { mean, variance } = tf.moments(x, axes);
    // Bookkeeping outside the loss: no gradient flows through the moving statistics.
    p.mean.assign(tf.add(tf.mul(p.mean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
    p.variance.assign(tf.add(tf.mul(p.variance, BN_MOMENTUM), tf.mul(variance, 1 - BN_MOMENTUM)));
    return tf.batchNorm(x, mean, variance, p.beta, p.gamma, BN_EPS);
  }

  /** Logits [N, classes] of x [N, D, H, W, 1]. */
  private forward(x: TfTensor, training: boolean): TfTensor {
    const tf = this.tf;
    let h = x;
    this.convs.forEach((l, i) => {
      const y = tf.conv3d(h as Tensor5D, l.w as TfTensor as Tensor5D, 1, 'same');
      const [n, d, hh, w, c] = y.shape;
      // Bias, batch norm and ReLU on the [N, D·H, W, C] view (see the header).
      let v = tf.add(tf.reshape(y, [n, d * hh, w, c]), l.b);
      v = this.batchnorm(v, l.bn!, training);
      if (i < CONV_DROPOUT.length) v = tf.relu(v);
      h = tf.reshape(v, y.shape);
      if (i < CONV_DROPOUT.length) {
        h = tf.maxPool3d(h as Tensor5D, [1, 2, 2], [1, 2, 2], 'valid');
        if (training) h = tf.dropout(h, CONV_DROPOUT[i]!);
      }
    });
    h = tf.mean(h, [1, 2, 3]);
    this.denses.forEach((l, i) => {
      h = tf.add(tf.matMul(h, l.w), l.b);
      if (l.bn) {
        h = this.batchnorm(h, l.bn, training);
        h = tf.relu(h);
        if (training) h = tf.dropout(h, DENSE_DROPOUT[i]!);
      }
    });
    return h;
  }

  private inputTensor(x: Float32Array, n: number): TfTensor {
    return this.tf.tensor(x, [n, ...this.config.input]);
  }

  /** Forward, backward and Adam on one batch; returns the mean focal loss (read back). */
  async trainStep(x: Float32Array, y: Uint32Array): Promise<number> {
    const tf = this.tf;
    const n = y.length;
    const loss = tf.tidy(() => {
      const xt = this.inputTensor(x, n);
      const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(y), 'int32'), this.config.classes.length);
      return this.optimizer.minimize(() => {
        const p = tf.softmax(this.forward(xt, true));
        const q = tf.clipByValue(tf.sum(tf.mul(p, onehot), 1), CLIP, 1 - CLIP);
        const a = tf.sum(tf.mul(onehot, this.alphaT), 1);
        const perSample = tf.neg(tf.mul(tf.mul(a, tf.pow(tf.sub(1, q), this.gamma)), tf.log(q)));
        return tf.mean(perSample) as Scalar;
      }, true, this.trainable)!;
    });
    const value = (await loss.data())[0]!;
    loss.dispose();
    checkPeerDevice();
    return value;
  }

  /** Inference softmax probabilities [n, classes] (read back). */
  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    const probs = this.tf.tidy(() => this.tf.softmax(this.forward(this.inputTensor(x, n), false)));
    const out = (await probs.data()) as Float32Array;
    probs.dispose();
    checkPeerDevice();
    return out;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.alphaT.dispose();
    for (const l of [...this.convs, ...this.denses]) {
      for (const v of [l.w, l.b, l.bn?.gamma, l.bn?.beta, l.bn?.mean, l.bn?.variance]) v?.dispose();
    }
  }
}
