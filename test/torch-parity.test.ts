// Step-for-step parity with PyTorch (bench/torch_peer.py, Keras' semantics written in
// torch ops): from our initial weights and the same batches, 20 Adam steps of the
// report's network at a small width and a short input, once with dropout off and
// once with dropout on (the peer applies the masks our engine drew, exported from
// the float64 reference's mask function). Compared: the batch loss of every step,
// every gradient of the first step, and every weight and batch-norm statistic after
// the last step. docs/RESULTS.md explains each tolerance.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { Ser3dCnn, CONV_DROPOUT, DENSE_DROPOUT, scaled, CONV_CHANNELS, DENSE_UNITS } from '../src/model/ser3dcnn.js';
import { Engine, KERAS_ADAM } from '../src/train/engine.js';
import { saveModel } from '../src/model/checkpoint.js';
import { readSafetensors, writeSafetensors, type TensorEntry } from '../src/model/safetensors.js';
import { CLASS_NAMES } from '../src/data/sources.js';
import { engineDropoutMasks, runTorchPeer, torchVersion, TORCH_PEER, TORCH_PYTHON } from '../bench/torch_peer.js';
import { KERAS_CALLBACKS } from '../src/train/callbacks.js';
import { expectClose, makeRng, uniform } from './util/check.js';

const STEPS = 20;
const BATCH = 6;
const INPUT: [number, number, number, number] = [2, 16, 16, 1];
const WIDTH = 1 / 16;
const SEED = 5;
const LR = 1e-3;
const BN_MOMENTUM = 0.9;

/**
 * Tolerances (atol + rtol·|torch|), justified in docs/RESULTS.md ("Step-for-step parity"):
 * both sides are float32 with different summation orders, so values agree to a few
 * float32 ulps per operation, and 20 steps compound it.
 */
const TOL = {
  loss: { atol: 1e-5, rtol: 1e-4 },
  grad: { atol: 1e-6, rtol: 1e-3 },
  /**
   * Adam's step m/(sqrt(v)+eps) does not scale with the gradient: where a parameter's
   * gradient is within rounding of zero in some step (a beta whose channel the ReLU
   * mostly closes, say), that step moves it by up to lr in a direction rounding picks.
   * 1e-4 is half a percent of the furthest Adam can move a weight in 20 steps (lr·steps).
   */
  weight: { atol: 1e-4, rtol: 1e-4 },
  /**
   * A bias directly followed by batch norm has a gradient that is zero in exact
   * arithmetic (the batch mean absorbs it); float32 leaves rounding noise there, which
   * Adam normalises into steps of up to ±lr whichever way the noise points. Those
   * biases — and the moving means, which include them — can only agree within the
   * distance Adam may travel: 2·lr·steps.
   */
  bnAbsorbed: { atol: 2 * LR * STEPS, rtol: 0 },
  /** Gradients of those biases: rounding noise around zero on both sides. */
  bnAbsorbedGrad: { atol: 1e-5, rtol: 0 },
};

/** Element counts of the six dropout layers' inputs for a batch of n. */
function dropoutSizes(n: number): { size: number; rate: number }[] {
  let [d, h, w] = INPUT;
  const out: { size: number; rate: number }[] = [];
  CONV_DROPOUT.forEach((rate, i) => {
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
    out.push({ size: n * d * h * w * scaled(CONV_CHANNELS[i]!, WIDTH), rate });
  });
  DENSE_DROPOUT.forEach((rate, i) => out.push({ size: n * scaled(DENSE_UNITS[i]!, WIDTH), rate }));
  return out;
}

/** Parameters whose gradient batch norm absorbs: biases of layers followed by batch norm. */
const absorbed = (name: string): boolean => /^(conv\d\.bias|dense[12]\.bias|bn5\.beta)$/.test(name) || name.endsWith('.moving_mean');

const torch = torchVersion();

describe('parity with PyTorch', () => {
  it('PyTorch (python3-torch) is installed by the set-up', () => {
    expect(torch.version, torch.reason).not.toBeNull();
  });

  for (const withDropout of [false, true]) {
    it.runIf(torch.version)(`20 Adam steps agree step for step, dropout ${withDropout ? 'on (our masks)' : 'off'}`, async () => {
      const gpu = await getGpu();
      const dir = mkdtempSync(join(tmpdir(), 'ser-parity-'));
      const model = new Ser3dCnn(gpu, { classes: CLASS_NAMES, input: INPUT, width: WIDTH, bnMomentum: BN_MOMENTUM }, SEED);
      await saveModel(gpu, model, join(dir, 'init.safetensors'));
      const rand = makeRng(withDropout ? 11 : 10);
      const alpha = uniform(rand, CLASS_NAMES.length, 0.05, 0.3);
      const engine = new Engine(gpu, model, BATCH, alpha, 2, { ...KERAS_ADAM, lr: LR }, SEED);
      engine.dropout = withDropout;
      const sample = INPUT.reduce((a, b) => a * b, 1);
      const xs = uniform(rand, STEPS * BATCH * sample, 0, 1);
      const ys = Int32Array.from({ length: STEPS * BATCH }, () => Math.floor(rand() * CLASS_NAMES.length));
      const batches: Record<string, TensorEntry> = {
        x: { dtype: 'F32', shape: [STEPS, BATCH, ...INPUT], data: xs },
        y: { dtype: 'I32', shape: [STEPS, BATCH], data: ys },
        alpha: { dtype: 'F32', shape: [alpha.length], data: alpha },
      };
      const losses: number[] = [];
      const grads: Record<string, Float32Array> = {};
      for (let s = 0; s < STEPS; s++) {
        const r = await engine.trainStep(xs.subarray(s * BATCH * sample, (s + 1) * BATCH * sample), Uint32Array.from(ys.subarray(s * BATCH, (s + 1) * BATCH)), LR);
        losses.push(r.loss);
        if (s === 0) for (const p of model.params) grads[p.name] = await gpu.readF32(p.grad, p.size);
        if (withDropout) {
          engineDropoutMasks(SEED, engine.adamStep, dropoutSizes(BATCH)).forEach((m, k) => {
            batches[`mask.${s}.${k}`] = { dtype: 'U8', shape: [m.length], data: m };
          });
        }
      }
      await writeSafetensors(join(dir, 'batches.safetensors'), batches);
      writeFileSync(join(dir, 'peer.json'), JSON.stringify({ bnMomentum: BN_MOMENTUM, gamma: 2, lr: LR, steps: STEPS, dropout: withDropout }));
      await runTorchPeer('parity', dir);
      const peer = (await readSafetensors(join(dir, 'torch.safetensors'))).tensors;
      const t = (name: string): Float32Array => peer[name]!.data as Float32Array;

      expectClose('loss per step', losses, t('loss'), TOL.loss);
      // Not a trivial agreement: the loss moved over the 20 steps.
      expect(Math.abs(losses[STEPS - 1]! - losses[0]!)).toBeGreaterThan(1e-3);
      for (const p of model.params) expectClose(`step-1 gradient ${p.name}`, grads[p.name]!, t(`grad.${p.name}`), absorbed(p.name) ? TOL.bnAbsorbedGrad : TOL.grad);
      for (const p of model.namedTensors()) {
        const ours = await gpu.readF32(p.buffer, p.size);
        expectClose(`after ${STEPS} steps ${p.name}`, ours, t(p.name), absorbed(p.name) ? TOL.bnAbsorbed : TOL.weight);
      }

      // Whole runs use torch's fused batch norm (bench/torch_peer.py KerasBatchNorm): it must
      // give the written-out form's losses and step-1 gradients, checked above against ours.
      writeFileSync(join(dir, 'peer.json'), JSON.stringify({ bnMomentum: BN_MOMENTUM, gamma: 2, lr: LR, steps: STEPS, dropout: withDropout, fusedBn: true }));
      await runTorchPeer('parity', dir);
      const fused = (await readSafetensors(join(dir, 'torch.safetensors'))).tensors;
      const f = (name: string): Float32Array => fused[name]!.data as Float32Array;
      expectClose('fused batch norm: loss per step', f('loss'), t('loss'), TOL.loss);
      for (const p of model.params) expectClose(`fused batch norm: step-1 gradient ${p.name}`, f(`grad.${p.name}`), t(`grad.${p.name}`), absorbed(p.name) ? TOL.bnAbsorbedGrad : TOL.grad);
    }, 120_000);
  }
  it.runIf(torch.version)('a PyTorch training run killed after an epoch and started again ends exactly as an uninterrupted one', async () => {
    const gpu = await getGpu();
    const EPOCHS = 6;
    const model = new Ser3dCnn(gpu, { classes: CLASS_NAMES, input: INPUT, width: WIDTH, bnMomentum: BN_MOMENTUM }, SEED);
    const rand = makeRng(12);
    const sample = INPUT.reduce((a, b) => a * b, 1);
    const split = (n: number): Record<string, TensorEntry> => ({
      x: { dtype: 'F32', shape: [n, ...INPUT], data: uniform(rand, n * sample, 0, 1) },
      y: { dtype: 'I32', shape: [n], data: Int32Array.from({ length: n }, () => Math.floor(rand() * CLASS_NAMES.length)) },
    });
    const [train, val, test] = [split(12), split(6), split(6)];
    const order = new Int32Array(EPOCHS * 12);
    for (let e = 0; e < EPOCHS; e++) order.set(Int32Array.from({ length: 12 }, (_, i) => i).sort(() => rand() - 0.5), e * 12);
    const data: Record<string, TensorEntry> = {
      alpha: { dtype: 'F32', shape: [CLASS_NAMES.length], data: uniform(rand, CLASS_NAMES.length, 0.05, 0.3) },
      order: { dtype: 'I32', shape: [EPOCHS, 12], data: order },
    };
    for (const [name, t] of Object.entries({ train, val, test })) {
      data[`${name}_x`] = t.x!;
      data[`${name}_y`] = t.y!;
    }
    const peer = { bnMomentum: BN_MOMENTUM, gamma: 2, lr: 1e-2, batch: 4, epochs: EPOCHS, recalibrateBatches: 2, callbacks: { ...KERAS_CALLBACKS, earlyStoppingPatience: 100, reduceLrPatience: 2 }, seed: SEED };
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'ser-torch-resume-')));
    for (const dir of dirs) {
      await saveModel(gpu, model, join(dir, 'init.safetensors'));
      await writeSafetensors(join(dir, 'data.safetensors'), data);
      writeFileSync(join(dir, 'peer.json'), JSON.stringify(peer));
    }
    await runTorchPeer('train', dirs[0]!);
    // The second run: SIGKILL once it has printed its third epoch, wherever it then is, then again from the start.
    const killed = await new Promise<number>((resolve) => {
      const child = spawn(TORCH_PYTHON, [TORCH_PEER, 'train', dirs[1]!], { stdio: ['ignore', 'pipe', 'ignore'] });
      let lines = 0;
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        lines += d.split('\n').length - 1;
        if (lines >= 3) child.kill('SIGKILL');
      });
      child.on('close', () => resolve(lines));
    });
    expect(killed, 'epochs printed before the kill').toBeLessThan(EPOCHS);
    const resumed: string[] = [];
    await runTorchPeer('train', dirs[1]!, (line) => resumed.push(line));
    expect(resumed.length, 'epochs trained after the restart').toBeLessThan(EPOCHS);
    const history = (dir: string) => (JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as Record<string, number>[]).map(({ seconds: _, ...rest }) => rest);
    expect(history(dirs[1]!)).toEqual(history(dirs[0]!));
    for (const file of ['best.safetensors', 'test_pred.safetensors']) {
      const [a, b] = await Promise.all(dirs.map((dir) => readSafetensors(join(dir, file))));
      for (const [name, t] of Object.entries(a!.tensors)) expect(b!.tensors[name]!.data, `${file}: ${name}`).toEqual(t.data);
    }
  });
});
