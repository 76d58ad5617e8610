import { describe, expect, it, vi } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { Graph } from '../src/autograd/tensor.js';
import { softmaxFocal } from '../src/autograd/ops.js';
import { Ser3dCnn } from '../src/model/ser3dcnn.js';
import { convLayerShapes } from '../src/model/architecture.js';
import { conv3dTuneKey } from '../src/kernels/conv3d_shape.js';
import { Engine } from '../src/train/engine.js';
import { ser3dcnnRef, type Weights } from '../src/ref/ser3dcnn.js';
import { softmaxFocalRef } from '../src/ref/softmax_focal.js';
import { Rng } from '../src/util/rng.js';
import { expectClose, maxAbs } from './util/check.js';

const gpu = await getGpu();
const CLASSES = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
// Small enough for the float64 reference, big enough that four 1×2×2 pools leave 1×1.
const INPUT: [number, number, number, number] = [2, 16, 16, 1];
const WIDTH = 0.05;

function randomBatch(n: number, seed: number): { x: Float32Array; y: Uint32Array } {
  const rng = new Rng(seed);
  const size = INPUT.reduce((a, b) => a * b, 1);
  return { x: Float32Array.from({ length: n * size }, () => rng.next()), y: Uint32Array.from({ length: n }, () => rng.int(CLASSES.length)) };
}

async function weightsOf(model: Ser3dCnn): Promise<Weights> {
  const w: Weights = {};
  for (const t of model.namedTensors()) w[t.name] = Float64Array.from(await gpu.readF32(t.buffer, t.size));
  return w;
}

/**
 * GPU network vs the float64 reference network. Logits and gradients pass through five
 * float32 conv blocks, so their absolute tolerance is a fraction of each tensor's
 * largest value; per-sample losses, from the two sides' own logits, relative.
 */
const TOL = {
  logitsOfMax: 1e-3,
  loss: { atol: 1e-6, rtol: 1e-4 },
  gradOfMax: 5e-3,
};

/**
 * The kernels the comparison runs: the defaults (the suite runs untuned), and Winograd
 * F(4×4, 3×3) filed as `ser tune`'s choice for every 1×3×3 layer in all three passes,
 * at a width whose channel counts are multiples of 4 (4, 8, 16, 32, 32) so it applies.
 */
const KERNEL_SETS = [
  { name: 'the default kernels', width: WIDTH, winograd: false },
  { name: 'Winograd F(4×4, 3×3) tuned for conv2–conv4', width: 1 / 16, winograd: true },
];

describe('Ser3dCnn through the autograd', () => {
  it('has the report layer list and counts its parameters', () => {
    const full = new Ser3dCnn(gpu, { classes: CLASSES, input: [3, 128, 60, 1], width: 1 });
    const names = full.params.map((p) => `${p.name}[${p.shape.join('×')}]`);
    expect(names.slice(0, 4)).toEqual(['conv1.kernel[1×5×5×1×64]', 'conv1.bias[64]', 'bn1.gamma[64]', 'bn1.beta[64]']);
    expect(names).toContain('conv5.kernel[1×1×1×512×512]');
    expect(names).toContain('dense1.kernel[512×512]');
    expect(names).toContain('dense3.kernel[256×7]');
    // Conv: 1·25·64+64 + 64·9·128+128 + 128·9·256+256 + 256·9·512+512 + 512·512+512; BN γβ: 2·(64+128+256+512+512+512+256);
    // dense: 512·512+512 + 512·256+256 + 256·7+7.
    const conv = 1664 + 73856 + 295168 + 1180160 + 262656;
    const bn = 2 * (64 + 128 + 256 + 512 + 512 + 512 + 256);
    const dense = 262656 + 131328 + 1799;
    expect(full.parameterCount).toBe(conv + bn + dense);
    for (const p of full.params) {
      p.buffer.destroy();
      p.grad.destroy();
    }
  });

  for (const set of KERNEL_SETS) it(`forward logits and every parameter gradient match the float64 reference network (${set.name})`, async () => {
    const layers = convLayerShapes(INPUT, set.width, 3).filter((c) => c.kh === 3);
    if (set.winograd) {
      for (const c of layers) for (const pass of ['forward', 'backward_input', 'backward_weight'] as const) gpu.conv3dTuning.set(conv3dTuneKey(pass, c), { kernel: 'winograd', winograd: { tile: 4 } });
    }
    const pipeline = vi.spyOn(gpu, 'pipeline');
    try {
      const model = new Ser3dCnn(gpu, { classes: CLASSES, input: INPUT, width: set.width }, 3);
      const n = 3;
      const { x, y } = randomBatch(n, 7);
      const alpha = Float32Array.from({ length: CLASSES.length }, (_, i) => 0.1 + 0.02 * i);
      const xb = gpu.upload(x);
      const yb = gpu.upload(y);
      const ab = gpu.upload(alpha);
      const want = ser3dcnnRef(await weightsOf(model), Float64Array.from(x), [n, ...INPUT], y, alpha, 2, 11, 5);

      const g = new Graph(gpu, true, 5, 11);
      for (const p of model.params) g.r.clear(p.grad);
      const logits = model.forward(g, g.input(xb, [n, ...INPUT]));
      const out = softmaxFocal(g, logits, yb, ab, 2);
      g.backward();
      const logitsCopy = gpu.pool.acquire(logits.size * 4);
      g.r.copy(logits.buffer, 0, logitsCopy, 0, logits.size * 4);
      g.finish();
      const gotLogits = await gpu.readF32(logitsCopy, logits.size);
      // Each sample's loss against the reference's loss of the same sample (softmaxFocalRef of its logits).
      const wantLoss = softmaxFocalRef(want.logits, y, alpha, { n, classes: CLASSES.length, gamma: 2 }).loss;
      expect(wantLoss.reduce((t, v) => t + v, 0) / n).toBeCloseTo(want.meanLoss, 12);
      expectClose('per-sample focal loss', await gpu.readF32(out.loss, n), wantLoss, TOL.loss);
      expectClose('logits', gotLogits, want.logits, { atol: TOL.logitsOfMax * maxAbs(want.logits), rtol: 0 });
      for (const p of model.params) {
        const want1 = want.grads[p.name]!;
        const got = await gpu.readF32(p.grad, p.size);
        // A shift that only feeds batch norm has a zero gradient in exact arithmetic (BN subtracts the
        // mean): the conv/dense biases before BN, and bn5.beta (its output reaches bn6 through GAP and a
        // linear layer). Both sides are rounding noise there, so compare on the scale of the layer's weights.
        const feedsBn = /^conv\d+\.bias$|^dense[12]\.bias$|^bn5\.beta$/.test(p.name);
        const scale = maxAbs(feedsBn ? want.grads[p.name.replace('bias', 'kernel').replace('beta', 'gamma')]! : want1);
        expectClose(`${p.name} gradient`, got, want1, { atol: TOL.gradOfMax * scale, rtol: 0 });
      }
      const ran = new Set(pipeline.mock.calls.map(([shader]) => shader));
      for (const shader of ['conv3d_winograd_weights', 'conv3d_winograd_input', 'conv3d_winograd_output', 'conv3d_winograd_dy', 'conv3d_winograd_dw']) expect(ran.has(shader), shader).toBe(set.winograd);
      // Input transforms: x in each forward and dy in each backward_input; backward_weight reuses the forward's.
      const transforms = pipeline.mock.calls.filter(([shader]) => shader === 'conv3d_winograd_input').length;
      expect(transforms, 'Winograd input transforms in the step').toBe(set.winograd ? 2 * layers.length : 0);
    } finally {
      pipeline.mockRestore();
      gpu.conv3dTuning.clear();
    }
  });

  it('a forward-only training graph (batch-norm recalibration) records no backward and keeps no Winograd input for one', async () => {
    const width = 1 / 16;
    const layers = convLayerShapes(INPUT, width, 3).filter((c) => c.kh === 3);
    for (const c of layers) for (const pass of ['forward', 'backward_input', 'backward_weight'] as const) gpu.conv3dTuning.set(conv3dTuneKey(pass, c), { kernel: 'winograd', winograd: { tile: 4 } });
    try {
      const model = new Ser3dCnn(gpu, { classes: CLASSES, input: INPUT, width }, 3);
      const n = 3;
      const xb = gpu.upload(randomBatch(n, 7).x);
      // Peak GPU memory of a training-mode forward, from an empty pool; and whether its tape then moves a gradient.
      const forward = async (forwardOnly: boolean): Promise<{ peak: number; gradMoved: boolean }> => {
        gpu.pool.clear();
        gpu.memory.resetPeak();
        const g = new Graph(gpu, true, 5, 11);
        g.forwardOnly = forwardOnly;
        for (const p of model.params) g.r.clear(p.grad);
        const logits = model.forward(g, g.input(xb, [n, ...INPUT]));
        const peak = gpu.memory.peak; // the forward's buffers, before any backward allocates
        g.r.copy(logits.buffer, 0, g.gradOf(logits), 0, logits.size * 4); // some upstream gradient
        g.backward();
        g.finish();
        const grad = await gpu.readF32(model.params[0]!.grad, model.params[0]!.size);
        return { peak, gradMoved: grad.some((v) => v !== 0) };
      };
      const full = await forward(false);
      const only = await forward(true);
      expect(full.gradMoved).toBe(true);
      expect(only.gradMoved).toBe(false);
      expect(only.peak).toBeLessThan(full.peak);
      console.log(`training-mode forward, peak GPU memory: ${full.peak} bytes keeping Winograd's V, ${only.peak} forward-only`);
      model.dispose();
      xb.destroy();
    } finally {
      gpu.conv3dTuning.clear();
    }
  });

  it('after the first step a training step creates no buffers or pipelines, and the loss falls on a fixed batch', async () => {
    const model = new Ser3dCnn(gpu, { classes: CLASSES, input: INPUT, width: WIDTH }, 1);
    const n = 8;
    const { x, y } = randomBatch(n, 3);
    // Make the classes learnable: a class-dependent brightness on top of the noise.
    const size = x.length / n;
    x.forEach((v, i) => (x[i] = 0.3 * v + y[Math.floor(i / size)]! / CLASSES.length));
    const engine = new Engine(gpu, model, n, new Float32Array(CLASSES.length).fill(1 / CLASSES.length), 2, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-7 });
    const losses = [(await engine.trainStep(x, y)).loss, (await engine.trainStep(x, y)).loss];
    const buffers = gpu.pool.created;
    const pipelines = gpu.pipelines.size;
    for (let i = 0; i < 30; i++) losses.push((await engine.trainStep(x, y)).loss);
    // Dropout makes single steps noisy: compare the means of the first and last few.
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    const before = mean(losses.slice(0, 3));
    const after = mean(losses.slice(-5));
    expect(gpu.pool.created).toBe(buffers);
    expect(gpu.pipelines.size).toBe(pipelines);
    console.log(`training loss ${before.toFixed(4)} → ${after.toFixed(4)}`);
    expect(after).toBeLessThan(before * 0.5);
  });
});
