// `ser bench` at a tiny network and input, alone and against each peer: the JSON report's shape and
// the internal consistency of its figures. Speed itself is not asserted.
import { describe, expect, it, vi } from 'vitest';
import { bench, formatReport, type BenchReport, type StepFigures } from '../src/cli/bench.js';
import { UsageError } from '../src/cli/args.js';

/** Runs the command, returning its exit code and what it printed to stdout. */
async function runCommand(argv: string[]): Promise<{ code: number; stdout: string[] }> {
  const stdout: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void stdout.push(String(s)));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await bench(argv), stdout };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

function expectOursOnly(s: StepFigures, batch: number): void {
  expect(s.batch).toBe(batch);
  expect(Number.isFinite(s.ours_ms) && s.ours_ms > 0, `ours_ms ${s.ours_ms}`).toBe(true);
  // samples/s and ms describe the same step.
  expect(Math.abs((s.ours_samples_per_s * s.ours_ms) / 1000 - batch)).toBeLessThan(1e-9 * batch + 1e-9);
  expect(s.ours_gflops).toBeGreaterThan(0);
  expect(s.peer_ms).toBeNull();
  expect(s.peer_samples_per_s).toBeNull();
  expect(s.peer_gflops).toBeNull();
  expect(s.ratio).toBeNull();
}

describe('ser bench', () => {
  it('reports train step and forward per batch as JSON, at width 0.05 and input 2×16×16', async () => {
    const argv = ['--json', '--width', '0.05', '--input', '2,16,16', '--batch', '2,3', '--iterations', '1', '--warmup', '0', '--kernels', 'none'];
    const { code, stdout } = await runCommand(argv);
    expect(code).toBe(0);
    expect(stdout).toHaveLength(1);
    const r = JSON.parse(stdout[0]!) as BenchReport;
    expect(typeof r.adapter).toBe('string');
    expect(r.adapter.length).toBeGreaterThan(0);
    expect(r.input).toEqual([2, 16, 16, 1]);
    expect(r.width).toBe(0.05);
    expect(r.iterations).toBe(1);
    expect(r.peer_iterations).toBeNull();
    expect(r.peer).toBeNull();
    expect(r.kernels).toEqual([]);
    expect(r.batches.map((b) => b.batch)).toEqual([2, 3]);
    // The top-level entries are the first batch's.
    expect(r.train_step).toEqual(r.batches[0]!.train_step);
    expect(r.forward).toEqual(r.batches[0]!.forward);
    for (const b of r.batches) {
      expectOursOnly(b.train_step, b.batch);
      expectOursOnly(b.forward, b.batch);
      expect(b.forward.peer_max_prob_diff).toBeNull();
      expect(b.peer_error).toBeNull();
      // FLOPs per training step are 3× the forward's: GFLOP/s × ms must keep that ratio.
      const flopRatio = (b.train_step.ours_gflops * b.train_step.ours_ms) / (b.forward.ours_gflops * b.forward.ours_ms);
      console.log(`batch ${b.batch}: train ${b.train_step.ours_ms.toFixed(1)} ms, forward ${b.forward.ours_ms.toFixed(1)} ms, FLOP ratio ${flopRatio}`);
      expect(Math.abs(flopRatio - 3)).toBeLessThan(1e-9);
    }
    const table = formatReport(r);
    expect(table.split('\n').filter((l) => l.startsWith('train step')).length).toBe(2);
    expect(table.split('\n').filter((l) => l.startsWith('forward')).length).toBe(2);
  });

  it('--compare tfjs at a tiny network: TF.js builds the same network (first forwards agree) and both are timed', async () => {
    const argv = ['--json', '--width', '0.05', '--input', '2,16,16', '--batch', '2', '--iterations', '1', '--warmup', '0', '--compare', 'tfjs', '--tfjs-iterations', '1', '--kernels', 'none'];
    const { code, stdout } = await runCommand(argv);
    expect(code).toBe(0);
    // One JSON object, as without the peer.
    expect(stdout).toHaveLength(1);
    const r = JSON.parse(stdout[0]!) as BenchReport;
    const b = r.batches[0]!;
    expect(b.peer_error).toBeNull();
    expect(b.forward.peer_max_prob_diff).not.toBeNull();
    expect(b.forward.peer_max_prob_diff!).toBeLessThanOrEqual(1e-3);
    for (const s of [b.train_step, b.forward]) {
      expect(s.peer_ms!).toBeGreaterThan(0);
      expect(Math.abs(s.ratio! - s.peer_ms! / s.ours_ms)).toBeLessThan(1e-9 * s.ratio!);
    }
    expect(r.peer).toMatch(/TensorFlow\.js/);
    console.log(`tiny network: TF.js / ours = ${b.train_step.ratio!.toFixed(2)} (train step), forwards agree to ${b.forward.peer_max_prob_diff}`);
  }, 300_000);

  it('--compare torch at a tiny network: PyTorch loads our weights (first forwards agree) and both are timed', async () => {
    const argv = ['--json', '--width', '0.05', '--input', '2,16,16', '--batch', '2', '--iterations', '1', '--warmup', '0', '--compare', 'torch', '--peer-iterations', '2', '--kernels', 'none'];
    const { code, stdout } = await runCommand(argv);
    expect(code).toBe(0);
    const r = JSON.parse(stdout[0]!) as BenchReport;
    const b = r.batches[0]!;
    expect(b.peer_error).toBeNull();
    expect(r.peer).toMatch(/^PyTorch \S+ on the CPU, \d+ threads?$/);
    expect(r.peer_iterations).toBe(2);
    // Agreement to float32 rounding, far inside the tolerance the bench applies before timing.
    expect(b.forward.peer_max_prob_diff!).toBeLessThan(1e-5);
    for (const s of [b.train_step, b.forward]) expect(s.peer_ms!).toBeGreaterThan(0);
    console.log(`tiny network: PyTorch / ours = ${b.train_step.ratio!.toFixed(2)} (train step), forwards agree to ${b.forward.peer_max_prob_diff}`);
  }, 300_000);

  it('rejects an unknown peer and an input too small for four poolings', async () => {
    await expect(bench(['--compare', 'keras'])).rejects.toThrow(UsageError);
    await expect(bench(['--input', '3,8,60'])).rejects.toThrow(/at least 16/);
    await expect(bench(['--batch', '8,0'])).rejects.toThrow(UsageError);
    await expect(bench(['--kernels', '8,x'])).rejects.toThrow(UsageError);
  });
});
