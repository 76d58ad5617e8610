// A real `ser train` child process stopped by a real SIGTERM after its first epoch:
// it must exit with 143 (128 + SIGTERM) and one line saying where the weights went,
// leave interrupted.safetensors and last.safetensors readable, and `--resume` must
// then finish the run with the first epoch's history kept.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticCorpus } from '../src/data/synth.js';
import { readSafetensors } from '../src/model/safetensors.js';
import { runSer, STACK_FRAME } from './util/cli.js';

const root = mkdtempSync(join(tmpdir(), 'ser-sigterm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Logs {
  epoch: number;
  loss: number;
  val_loss: number;
}

describe('ser train stopped by SIGTERM, then --resume', () => {
  it('saves, exits 143 with one line, and resumes to the end', async () => {
    const corpus = join(root, 'corpus');
    await writeSyntheticCorpus(corpus, { speakers: 4, perEmotionPerSpeaker: 1, seconds: 1.5 });
    const out = join(root, 'run');
    const args = ['train', '--data', `synth=${corpus}`, '--out', out, '--width', '0.03', '--epochs', '3', '--batch', '8', '--augment', '0'];

    let sent = false;
    let seen = '';
    // cwd is the temporary folder, so the feature cache (.cache/features) lands there too.
    const first = await runSer(args, {
      cwd: root,
      // Generous: a hang is what this catches, and a loaded 2-core machine is slow.
      timeoutMs: 150_000,
      onStderr: (chunk, child) => {
        seen += chunk;
        if (!sent && /^epoch 1: /m.test(seen)) {
          sent = true;
          child.kill('SIGTERM');
        }
      },
    });
    console.log(`first run: exit ${first.code} in ${first.seconds.toFixed(1)} s\n${first.errLines.slice(-3).join('\n')}`);
    expect(first.timedOut).toBe(false);
    expect(sent).toBe(true);
    expect(first.code).toBe(143);
    expect(first.stderr).not.toMatch(STACK_FRAME);
    const interrupted = join(out, 'interrupted.safetensors');
    expect(first.errLines[first.errLines.length - 1]).toBe(`ser train: interrupted by SIGTERM; weights saved to ${interrupted}; continue with --resume`);
    // Both checkpoints read back whole; state.json records the completed epoch.
    const a = await readSafetensors(interrupted);
    const b = await readSafetensors(join(out, 'last.safetensors'));
    expect(Object.keys(a.tensors).length).toBeGreaterThan(20);
    expect(Object.keys(b.tensors).length).toBeGreaterThan(Object.keys(a.tensors).length); // plus Adam's moments
    const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')) as { epoch: number; history: Logs[] };
    // Normally epoch 1; on a starved machine the signal may land a step later, in epoch 3 at the latest.
    expect(state.epoch).toBeLessThan(2);
    expect(state.history.length).toBe(state.epoch + 1);

    const second = await runSer([...args, '--resume'], { cwd: root, timeoutMs: 150_000 });
    console.log(`resumed run: exit ${second.code} in ${second.seconds.toFixed(1)} s`);
    expect(second.timedOut).toBe(false);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`resuming after epoch ${state.epoch + 1}`);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as Logs[];
    expect(history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    expect(history.slice(0, state.history.length)).toEqual(state.history);
    expect(existsSync(join(out, 'test_report.json'))).toBe(true);
    expect(second.stdout).toContain(`run folder: ${out}`);
  }, 330_000);
});

