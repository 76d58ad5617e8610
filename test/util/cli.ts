// Running the real `ser` command in a child process, as a user would, for the
// tests of its exit codes and messages; and a tiny trained-model folder to point it at.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Gpu } from '../../src/kernels/gpu.js';
import { Ser3dCnn } from '../../src/model/ser3dcnn.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { CLASS_NAMES } from '../../src/data/sources.js';
import { DEFAULT_FRONTEND } from '../../src/dsp/frontend.js';
import { modelInputShape, type RunConfig } from '../../src/train/run.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const SER = join(ROOT, 'bin', 'ser.js');

export interface SerResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stderr without Dawn's harmless "Warning: maxDynamic…" lines and blank lines. */
  errLines: string[];
  timedOut: boolean;
  seconds: number;
}

export interface SerOptions {
  cwd?: string;
  timeoutMs?: number;
  /** What node runs instead of bin/ser.js, e.g. ['--import', 'tsx', 'bench/emodb_results.ts'] (paths from the repository root). */
  entry?: string[];
  /** Called with each chunk of stderr and the child, e.g. to send it a signal at the right moment. */
  onStderr?: (chunk: string, child: ReturnType<typeof spawn>) => void;
}

/** At most this many `ser` children at once: tests run concurrently, the machine may have 2 cores. */
const MAX_CHILDREN = 3;
let running = 0;
const waiting: (() => void)[] = [];

/** Runs `node bin/ser.js ARGS`; a run past the timeout (default 100 s) is killed and reported as timedOut (a hang). */
export async function runSer(args: string[], o: SerOptions = {}): Promise<SerResult> {
  if (running >= MAX_CHILDREN) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await spawnSer(args, o);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function spawnSer(args: string[], o: SerOptions): Promise<SerResult> {
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env };
    delete env.SER_DEBUG;
    // Outside the repository by default, so nothing (a feature cache, an SVG) lands in the working tree.
    const child = spawn(process.execPath, [...(o.entry ?? [SER]), ...args], { cwd: o.cwd ?? tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 100_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      o.onStderr?.(d.toString(), child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const errLines = stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning: maxDynamic'));
      resolvePromise({ code, signal, stdout, stderr, errLines, timedOut, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** A stack frame ("    at f (file:1:2)") anywhere in the text. */
export const STACK_FRAME = /^\s+at .+[(:]\d+/m;

/** An untrained model of width `width` saved as DIR/best.safetensors with the config.json `ser train` writes. */
export async function writeTinyRun(gpu: Gpu, dir: string, width = 0.03): Promise<{ checkpoint: string; config: RunConfig }> {
  const input = modelInputShape(DEFAULT_FRONTEND);
  const model = new Ser3dCnn(gpu, { classes: CLASS_NAMES, input, width }, 1);
  const checkpoint = join(dir, 'best.safetensors');
  await saveModel(gpu, model, checkpoint);
  const config: RunConfig = {
    format: 'ser-webgpu',
    classes: CLASS_NAMES,
    width,
    input,
    features: DEFAULT_FRONTEND,
    loss: { kind: 'focal', gamma: 2, alpha: CLASS_NAMES.map(() => 1 / CLASS_NAMES.length) },
    seed: 0,
    split: 'random',
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 1));
  return { checkpoint, config };
}
