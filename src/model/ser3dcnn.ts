// The report's network, layer by layer. Shapes are channels-last; comments give
// them for the default input [N, 3, 128, 60, 1] at width 1.
//
//   conv1  Conv3D 64,  1×5×5 same → BN → ReLU → MaxPool 1×2×2 → Dropout 0.2   [N,3,64,30,64]
//   conv2  Conv3D 128, 1×3×3 same → BN → ReLU → MaxPool 1×2×2 → Dropout 0.3   [N,3,32,15,128]
//   conv3  Conv3D 256, 1×3×3 same → BN → ReLU → MaxPool 1×2×2 → Dropout 0.3   [N,3,16,7,256]
//   conv4  Conv3D 512, 1×3×3 same → BN → ReLU → MaxPool 1×2×2 → Dropout 0.3   [N,3,8,3,512]
//   conv5  Conv3D 512, 1×1×1 same → BN                                          [N,3,8,3,512]
//   global average pooling                                                     [N,512]
//   dense1 Dense 512 → BN → ReLU → Dropout 0.4                                 [N,512]
//   dense2 Dense 256 → BN → ReLU → Dropout 0.3                                 [N,256]
//   dense3 Dense 7 (softmax is fused into the loss)                            [N,7]
//
// Initialisation is Keras': Glorot-uniform kernels, zero biases, BN gamma 1 and
// beta 0, moving mean 0 and moving variance 1.
import type { Gpu } from '../kernels/gpu.js';
import { Graph, Parameter, State, Tensor } from '../autograd/tensor.js';
import { batchnorm, batchnormReluMaxpool, conv3d, dense, dropout, globalAvgPool, relu, type BatchNormParams } from '../autograd/ops.js';
import { Rng } from '../util/rng.js';
import { BN_MOMENTUM, CONV_CHANNELS, CONV_DROPOUT, CONV_KERNELS, DENSE_DROPOUT, DENSE_UNITS, scaled } from './architecture.js';

export interface ModelConfig {
  /** Class names, in label order. */
  classes: string[];
  /** Input [timesteps, n_mels, frames_per_step, 1]. */
  input: [number, number, number, number];
  /** Multiplier of every hidden channel and unit count (1 = the report's network). */
  width: number;
  /**
   * Batch-norm running-statistics momentum (Keras: 0.99). Short runs use less: with
   * 0.99 the running statistics need a few hundred steps to leave their initial
   * values, and until then inference (validation) sees badly scaled activations.
   */
  bnMomentum?: number;
}

export { CONV_CHANNELS, CONV_DROPOUT, DENSE_DROPOUT, DENSE_UNITS, scaled };

/** Keras' glorot_uniform: U(±sqrt(6 / (fan_in + fan_out))), fans including the receptive field. */
function glorot(rand: () => number, shape: number[]): Float32Array {
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = shape[shape.length - 2]! * receptive;
  const fanOut = shape[shape.length - 1]! * receptive;
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * limit);
}

export class Ser3dCnn {
  readonly params: Parameter[] = [];
  readonly states: State[] = [];
  private convs: { w: Parameter; b: Parameter; bn: BatchNormParams }[] = [];
  private denses: { w: Parameter; b: Parameter; bn: BatchNormParams | null }[] = [];

  constructor(
    readonly gpu: Gpu,
    readonly config: ModelConfig,
    seed = 0,
  ) {
    const rng = new Rng(seed);
    const rand = (): number => rng.next();
    let cin = config.input[3];
    CONV_CHANNELS.forEach((c, i) => {
      const cout = scaled(c, config.width);
      const [kd, kh, kw] = CONV_KERNELS[i]!;
      const w = this.param([kd, kh, kw, cin, cout], `conv${i + 1}.kernel`, glorot(rand, [kd, kh, kw, cin, cout]));
      const b = this.param([cout], `conv${i + 1}.bias`, new Float32Array(cout));
      this.convs.push({ w, b, bn: this.bn(cout, `bn${i + 1}`) });
      cin = cout;
    });
    let fin = cin;
    const units = [...DENSE_UNITS.map((u) => scaled(u, config.width)), config.classes.length];
    units.forEach((u, i) => {
      const w = this.param([fin, u], `dense${i + 1}.kernel`, glorot(rand, [fin, u]));
      const b = this.param([u], `dense${i + 1}.bias`, new Float32Array(u));
      this.denses.push({ w, b, bn: i < DENSE_UNITS.length ? this.bn(u, `bn${CONV_CHANNELS.length + i + 1}`) : null });
      fin = u;
    });
  }

  private param(shape: number[], name: string, init: Float32Array): Parameter {
    const p = new Parameter(this.gpu, shape, name, init);
    this.params.push(p);
    return p;
  }

  private bn(c: number, name: string): BatchNormParams {
    const gamma = this.param([c], `${name}.gamma`, new Float32Array(c).fill(1));
    const beta = this.param([c], `${name}.beta`, new Float32Array(c));
    const runningMean = new State(this.gpu, [c], `${name}.moving_mean`, new Float32Array(c));
    const runningVar = new State(this.gpu, [c], `${name}.moving_variance`, new Float32Array(c).fill(1));
    this.states.push(runningMean, runningVar);
    return { gamma, beta, runningMean, runningVar };
  }

  get parameterCount(): number {
    return this.params.reduce((a, p) => a + p.size, 0);
  }

  /** Every persistent tensor by name, in a stable order (the checkpoint's contents). */
  namedTensors(): Tensor[] {
    return [...this.params, ...this.states];
  }

  /** Frees every parameter, gradient and running statistic on the GPU. */
  dispose(): void {
    for (const p of this.params) p.grad.destroy();
    for (const t of this.namedTensors()) t.buffer.destroy();
  }

  /** Logits [N, classes] for x [N, D, H, W, 1]. */
  forward(g: Graph, x: Tensor): Tensor {
    const momentum = this.config.bnMomentum ?? BN_MOMENTUM;
    let h = x;
    this.convs.forEach((layer, i) => {
      h = conv3d(g, h, layer.w, layer.b, 'same');
      if (i < CONV_DROPOUT.length) {
        // BatchNormalization → ReLU → MaxPooling3D(1×2×2) → Dropout, fused into one pass.
        h = batchnormReluMaxpool(g, h, layer.bn, [1, 2, 2], CONV_DROPOUT[i]!, momentum);
      } else {
        h = batchnorm(g, h, layer.bn, momentum);
      }
    });
    h = globalAvgPool(g, h);
    this.denses.forEach((layer, i) => {
      h = dense(g, h, layer.w, layer.b);
      if (layer.bn) {
        h = batchnorm(g, h, layer.bn, momentum);
        h = relu(g, h);
        h = dropout(g, h, DENSE_DROPOUT[i]!);
      }
    });
    return h;
  }

  /** Multiply-adds ×2 of one forward pass per sample (for GFLOP/s figures). */
  forwardFlopsPerSample(): number {
    let [d, h, w] = this.config.input;
    let cin = this.config.input[3];
    let flops = 0;
    this.convs.forEach((layer, i) => {
      const [kd, kh, kw, , cout] = layer.w.shape as number[];
      flops += 2 * d * h * w * kd! * kh! * kw! * cin * cout!;
      cin = cout!;
      if (i < CONV_DROPOUT.length) {
        h = Math.floor(h / 2);
        w = Math.floor(w / 2);
      }
    });
    for (const layer of this.denses) flops += 2 * layer.w.size;
    return flops;
  }
}
