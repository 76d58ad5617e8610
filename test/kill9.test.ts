// Crash safety of checkpoint writes: a child process rewrites a safetensors
// checkpoint and a JSON state file in a loop and is killed with SIGKILL at random
// moments. After every kill both files must read back complete and be one of the
// versions the child wrote; the temporary files a kill leaves behind must never
// stand in for a target, must not disturb the next writer, and are swept by
// removeStaleTemps.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../src/model/safetensors.js';
import { removeStaleTemps } from '../src/util/atomic.js';
import { Rng } from '../src/util/rng.js';
import { getGpu } from '../src/kernels/gpu.js';
import { Ser3dCnn } from '../src/model/ser3dcnn.js';
import { Engine } from '../src/train/engine.js';
import { fit, type Dataset } from '../src/train/fit.js';
import { KERAS_CALLBACKS } from '../src/train/callbacks.js';
import { versionLength } from './util/checkpoint-writer.js';

const ROOT = join(import.meta.dirname, '..');
const WRITER = join(ROOT, 'test', 'util', 'checkpoint-writer.ts');
const ROUNDS = 5;
const TEMP = /^\..+\.\d+\.\d+\.tmp$/;

const dir = mkdtempSync(join(tmpdir(), 'ser-kill9-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer from version `first`, kills it `delayMs` after its first complete version; returns the versions it reported. */
function writeAndKill(first: number, delayMs: number): Promise<{ reported: number[]; signal: string | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, String(first)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | null = null;
    const guard = setTimeout(() => child.kill('SIGKILL'), 45_000); // no version at all: reported as a failure below
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code ?? signal}: ${err}`));
      else resolvePromise({ reported: out.split('\n').filter(Boolean).map(Number), signal });
    });
  });
}

describe('kill -9 during checkpoint writes', () => {
  it(`leaves complete files of a written version after each of ${ROUNDS} kills`, async () => {
    const rng = new Rng(9);
    let next = 1;
    for (let round = 0; round < ROUNDS; round++) {
      const delay = 5 + Math.floor(rng.next() * 250);
      const { reported } = await writeAndKill(next, delay);
      expect(reported.length).toBeGreaterThan(0);
      const last = reported[reported.length - 1]!;

      // The checkpoint: validated by the reader, every value the same version.
      const ck = await readSafetensors(join(dir, 'ckpt.safetensors'));
      const v = Number(ck.metadata.version);
      expect(Object.keys(ck.tensors).sort()).toEqual(['step', 'weights']);
      expect(ck.tensors.weights!.shape).toEqual([versionLength(v)]);
      const w = ck.tensors.weights!.data as Float32Array;
      const wrong = w.findIndex((x) => x !== v);
      // The state file is written after the checkpoint, so it is at most one version behind it.
      const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { version: number; values: number[] };
      const temps = readdirSync(dir).filter((n) => TEMP.test(n));
      console.log(`round ${round}: killed ${delay} ms after the first version; reported ${reported[0]}..${last}, checkpoint v${v}, state v${state.version}, temp files so far ${temps.length}`);
      expect(wrong).toBe(-1);
      expect((ck.tensors.step!.data as Int32Array)[0]).toBe(v);
      // Reported versions are complete on disk; the one being written when killed may or may not have landed.
      expect(v === last || v === last + 1).toBe(true);
      expect(state.version === v || state.version === v - 1).toBe(true);
      expect(state.values.length).toBe(versionLength(state.version) / 10);
      expect(state.values.every((x) => x === state.version)).toBe(true);
      // Nothing else in the folder: the targets and, possibly, temporary files.
      expect(readdirSync(dir).filter((n) => !TEMP.test(n)).sort()).toEqual(['ckpt.safetensors', 'state.json']);
      next = v + 1;
    }
    const left = readdirSync(dir).filter((n) => TEMP.test(n));
    const removed = await removeStaleTemps(dir);
    console.log(`temporary files left by ${ROUNDS} kills: ${left.length}; removed by removeStaleTemps: ${removed.length}`);
    expect(removed.sort()).toEqual(left.sort());
    expect(readdirSync(dir).sort()).toEqual(['ckpt.safetensors', 'state.json']);
  });

  it('removeStaleTemps keeps files of running writers and unrelated names', async () => {
    const d = mkdtempSync(join(dir, 'stale-'));
    const dead = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((r) => dead.on('close', () => r(dead.pid!)));
    writeFileSync(join(d, `.last.safetensors.${deadPid}.1700000000000.tmp`), 'torn');
    writeFileSync(join(d, `.last.safetensors.${process.pid}.1700000000000.tmp`), 'in flight');
    writeFileSync(join(d, 'notes.tmp'), 'user file');
    writeFileSync(join(d, 'last.safetensors'), 'target');
    const removed = await removeStaleTemps(d);
    expect(removed).toEqual([`.last.safetensors.${deadPid}.1700000000000.tmp`]);
    expect(readdirSync(d).sort()).toEqual([`.last.safetensors.${process.pid}.1700000000000.tmp`, 'last.safetensors', 'notes.tmp'].sort());
  });

  it('a kill between last.safetensors and state.json: --resume still repeats the uninterrupted run exactly', async () => {
    const gpu = await getGpu();
    const classes = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const input: [number, number, number, number] = [1, 16, 16, 1];
    const data = (n: number, seed: number): Dataset => {
      const rng = new Rng(seed);
      return { x: Float32Array.from({ length: n * 256 }, () => rng.next()), y: Uint32Array.from({ length: n }, () => rng.int(7)) };
    };
    const train = data(16, 1);
    const val = data(8, 2);
    const run = async (out: string, epochs: number, resume: boolean): Promise<void> => {
      const model = new Ser3dCnn(gpu, { classes, input, width: 0.05 }, resume ? 99 : 4);
      const engine = new Engine(gpu, model, 8, new Float32Array(7).fill(1 / 7), 2, undefined, 4);
      await fit(gpu, model, engine, train, val, { out, epochs, batch: 8, seed: 4, lr: 1e-3, callbacks: KERAS_CALLBACKS, resume, quiet: true });
    };
    const a = mkdtempSync(join(dir, 'whole-'));
    await run(a, 3, false);

    const b = mkdtempSync(join(dir, 'torn-'));
    await run(b, 1, false);
    copyFileSync(join(b, 'state.json'), join(b, 'state-epoch1.json'));
    await run(b, 2, true);
    // As if killed after epoch 2's last.safetensors landed but before its state.json did.
    writeFileSync(join(b, 'state.json'), readFileSync(join(b, 'state-epoch1.json')));
    await run(b, 3, true);

    const ta = await readSafetensors(join(a, 'last.safetensors'));
    const tb = await readSafetensors(join(b, 'last.safetensors'));
    const differing = Object.keys(ta.tensors).filter((k) => (ta.tensors[k]!.data as Float32Array).some((x, i) => x !== (tb.tensors[k]!.data as Float32Array)[i]));
    console.log(`tensors differing from the uninterrupted run: ${differing.length} of ${Object.keys(ta.tensors).length}`);
    expect(differing).toEqual([]);
    const history = (d: string) => (JSON.parse(readFileSync(join(d, 'history.json'), 'utf8')) as { val_loss: number }[]).map((h) => h.val_loss);
    expect(history(b)).toEqual(history(a));
  });
});
