// Driving the PyTorch peer (bench/torch_peer.py) from TypeScript: finding a Python with
// torch, running one of its commands on a folder of safetensors files, and the
// dropout masks of our engine in the layout the peer reads. Nothing under src/
// depends on this file: the CLI and the demo run without PyTorch.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropoutMaskRef } from '../src/ref/dropout.js';
import { dropoutLayerSeed } from '../src/model/architecture.js';
import type { Gpu } from '../src/kernels/gpu.js';
import type { Ser3dCnn } from '../src/model/ser3dcnn.js';
import { saveModel } from '../src/model/checkpoint.js';
import { readSafetensors, writeSafetensors } from '../src/model/safetensors.js';

export const TORCH_PEER = join(dirname(fileURLToPath(import.meta.url)), 'torch_peer.py');

/** Debian's interpreter: python3-torch installs into it, not into a pyenv or venv Python. */
export const TORCH_PYTHON = process.env.SER_TORCH_PYTHON ?? '/usr/bin/python3';

/** PyTorch's version, or null with the reason when the peer cannot run here. */
export function torchVersion(): { version: string | null; reason: string } {
  const r = spawnSync(TORCH_PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { version: null, reason: `${TORCH_PYTHON}: ${r.error.message}` };
  if (r.status !== 0) return { version: null, reason: `${TORCH_PYTHON} cannot import torch and numpy (install Debian's python3-torch: bash scripts/setup-torch.sh)` };
  return { version: r.stdout.trim(), reason: '' };
}

/**
 * Runs `torch_peer.py COMMAND ARG`, streaming its stdout lines to onLine; rejects with
 * its stderr when it fails. Threads: PyTorch's default (one per core).
 */
export function runTorchPeer(command: 'parity' | 'train' | 'bench', arg: string, onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TORCH_PYTHON, [TORCH_PEER, command, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      if (onLine) for (const l of lines) onLine(l);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`torch_peer.py ${command} exited with ${code}:\n${err.slice(-4000)}`));
    });
  });
}

/**
 * The keep masks our engine draws in Adam step `step` (1-based) for each dropout layer,
 * in the order the network applies them; `sizes` are the layers' element counts.
 */
export function engineDropoutMasks(seed: number, step: number, layers: { size: number; rate: number }[]): Uint8Array[] {
  return layers.map((l, k) => dropoutMaskRef(l.size, l.rate, dropoutLayerSeed(seed, k), step));
}

export interface TorchTimings {
  /** Softmax of the peer's first inference forward on our initial weights (to check before timing). */
  probs: Float32Array;
  /** Median ms of a training step (forward, focal loss, backward, Adam) and of an inference forward. */
  trainMs: number;
  forwardMs: number;
  threads: number;
  version: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Times the same network in PyTorch on the CPU, from our model's current weights and the given batch. */
export async function torchTimings(
  gpu: Gpu,
  model: Ser3dCnn,
  batch: { x: Float32Array; y: Uint32Array; alpha: Float32Array; gamma: number },
  o: { iterations: number; warmup: number },
): Promise<TorchTimings> {
  const dir = mkdtempSync(join(tmpdir(), 'ser-torch-bench-'));
  try {
    await saveModel(gpu, model, join(dir, 'init.safetensors'));
    const n = batch.y.length;
    await writeSafetensors(join(dir, 'batch.safetensors'), {
      x: { dtype: 'F32', shape: [n, ...model.config.input], data: batch.x },
      y: { dtype: 'I32', shape: [n], data: Int32Array.from(batch.y) },
      alpha: { dtype: 'F32', shape: [batch.alpha.length], data: batch.alpha },
    });
    writeFileSync(join(dir, 'peer.json'), JSON.stringify({ bnMomentum: model.config.bnMomentum ?? 0.99, gamma: batch.gamma, iterations: o.iterations, warmup: o.warmup }));
    const out = JSON.parse((await runTorchPeer('bench', dir)).trim().split('\n').pop()!) as { train_ms: number[]; forward_ms: number[]; threads: number; torch: string };
    const probs = (await readSafetensors(join(dir, 'probs.safetensors'))).tensors.probs!.data as Float32Array;
    return { probs, trainMs: median(out.train_ms), forwardMs: median(out.forward_ms), threads: out.threads, version: out.torch };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
