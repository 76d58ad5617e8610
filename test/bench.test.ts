// `ser bench` at a tiny network and input, alone and against each peer: the JSON report's shape and
// its GFLOP/s against the network's FLOP count worked out here from the layer shapes. Speed itself
// is not asserted, nor are identities of the figures (samples/s is batch / ms by definition).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { bench, formatReport, type BenchReport, type StepFigures } from '../src/cli/bench.js';
import { UsageError } from '../src/cli/args.js';
import type { FrontendBenchReport } from '../bench/frontend.bench.js';
import { getGpu } from '../src/kernels/gpu.js';

const gpu = await getGpu();

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

/**
 * Forward FLOPs per sample of the network at width 0.05 on a 2×16×16×1 input, from its
 * layer shapes: 2 × the multiply-adds of the convolutions (the whole kernel at every
 * output position, `same` padding) and the dense layers. Channels are max(2,
 * round(0.05·c)) of 64, 128, 256, 512, 512 and units of 512, 256; the 1×2×2 pools
 * after conv1–conv4 halve H and W.
 */
const TINY_FORWARD_FLOPS = (() => {
  // [D·H·W of the layer's output, kernel taps, Cin, Cout]
  const convs = [
    [2 * 16 * 16, 25, 1, 3],
    [2 * 8 * 8, 9, 3, 6],
    [2 * 4 * 4, 9, 6, 13],
    [2 * 2 * 2, 9, 13, 26],
    [2 * 1 * 1, 1, 26, 26],
  ];
  const denses = [
    [26, 26],
    [26, 13],
    [13, 7],
  ];
  return convs.reduce((t, [p, k, cin, cout]) => t + 2 * p! * k! * cin! * cout!, 0) + denses.reduce((t, [k, n]) => t + 2 * k! * n!, 0);
})();

/** Weights of the same network: kernels and biases of the convolutions and dense layers, gamma and beta of the 7 batch norms. */
const TINY_PARAMETERS = (() => {
  const convs = [[25, 1, 3], [9, 3, 6], [9, 6, 13], [9, 13, 26], [1, 26, 26]];
  const denses = [[26, 26], [26, 13], [13, 7]];
  const bn = [3, 6, 13, 26, 26, 26, 13];
  return convs.reduce((t, [k, i, o]) => t + k! * i! * o! + o!, 0) + denses.reduce((t, [i, o]) => t + i! * o! + o!, 0) + bn.reduce((t, c) => t + 2 * c, 0);
})();

/** GFLOP/s × ms must give the step's FLOPs: the forward's per sample × batch, and a training step 3× that (`ser bench --help`). */
function expectFlops(s: StepFigures, perSample: number): void {
  const want = perSample * s.batch;
  const got = s.ours_gflops * s.ours_ms * 1e6;
  expect(Math.abs(got / want - 1), `FLOPs ${got}, want ${want}`).toBeLessThan(1e-9);
}

function expectOursOnly(s: StepFigures, batch: number): void {
  expect(s.batch).toBe(batch);
  expect(Number.isFinite(s.ours_ms) && s.ours_ms > 0, `ours_ms ${s.ours_ms}`).toBe(true);
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
      console.log(`batch ${b.batch}: train ${b.train_step.ours_ms.toFixed(1)} ms, forward ${b.forward.ours_ms.toFixed(1)} ms, ${TINY_FORWARD_FLOPS} forward FLOPs per sample`);
      expectFlops(b.forward, TINY_FORWARD_FLOPS);
      expectFlops(b.train_step, 3 * TINY_FORWARD_FLOPS);
      // At least the weights, their gradients and Adam's two moments (float32) are alive during the step.
      expect(b.train_step_peak_bytes).toBeGreaterThanOrEqual(4 * 4 * TINY_PARAMETERS);
    }
    const table = formatReport(r);
    expect(table.split('\n').filter((l) => l.startsWith('train step')).length).toBe(2);
    expect(table.split('\n').filter((l) => l.startsWith('forward')).length).toBe(2);
    expect(table).toMatch(/peak GPU memory of a training step/);
    expect(table.split('\n').filter((l) => /^ {2}batch +\d+: +[\d.]+ MiB$/.test(l)).length).toBe(2);
  });

  it('--frontend times the GPU mel front end on a folder of WAV files, validated against the float64 reference', async () => {
    const { code, stdout } = await runCommand(['--frontend', join('..', 'shared', 'data', 'emodb-original'), '--clips', '3', '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(stdout[0]!) as FrontendBenchReport;
    expect(r.corpus.clips).toBe(3);
    expect(r.gpu.maxAbsDbVsCpuReference).toBeLessThanOrEqual(1e-3);
    expect(r.gpu.realTime).toBeGreaterThan(0);
    expect(r.cpuReference.realTime).toBeGreaterThan(0);
    expect(r.ratios.gpuOverCpuReference).toBeCloseTo(r.gpu.realTime / r.cpuReference.realTime, 9);
  });

  it('--compare tfjs at a tiny network: TF.js builds the same network (first forwards agree) and both are timed', async () => {
    const argv = ['--json', '--width', '0.05', '--input', '2,16,16', '--batch', '2', '--iterations', '1', '--warmup', '0', '--compare', 'tfjs', '--peer-iterations', '1', '--kernels', 'none'];
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

  // The profiler needs timestamp queries; the command runs on the adapter this process gets.
  it.skipIf(!gpu.features.timestamps)('SER_PROFILE=1 profiles only the timed forwards and steps, not the warm-ups', () => {
    // 3 timed forwards and 3 timed steps, after 2 warm-up steps and 1 warm-up forward (and
    // the first forward bench makes before either): one softmax per forward or step.
    const argv = ['bench', '--width', '0.05', '--input', '2,16,16', '--batch', '2', '--iterations', '3', '--warmup', '2', '--kernels', 'none'];
    const env = { ...process.env, SER_PROFILE: '1', SER_TUNE: '0' };
    const r = spawnSync(process.execPath, ['--import', 'tsx', join('src', 'cli', 'bin.ts'), ...argv], { encoding: 'utf8', env, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/GPU time per shader \(SER_PROFILE, our timed steps only: 3 forwards and 3 training steps per batch size\)/);
    expect(r.stderr).toMatch(/^ {2}softmax_focal_forward +[\d.]+ ms +[\d.]+% +×6$/m);
  });

  it('rejects an unknown peer and an input too small for four poolings', async () => {
    await expect(bench(['--compare', 'keras'])).rejects.toThrow(UsageError);
    await expect(bench(['--input', '3,8,60'])).rejects.toThrow(/at least 16/);
    await expect(bench(['--batch', '8,0'])).rejects.toThrow(UsageError);
    await expect(bench(['--kernels', '8,x'])).rejects.toThrow(UsageError);
  });
});
