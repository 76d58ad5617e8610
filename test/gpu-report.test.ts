// The pieces of the GPU report (scripts/gpu-report.sh): the kernel check of
// `ser doctor --kernels` (that it passes here and that it can fail), the portable
// build running from a folder that holds nothing but dist/ and Dawn's bindings, and
// the script's report.json from a stand-in `ser` (the real steps take many minutes
// on a CPU driver; `bash dist/gpu-report.sh --quick` runs them for real).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { reluForward } from '../src/kernels/relu.js';
import { reluForwardRef } from '../src/ref/relu.js';
import { checkKernels, formatKernelCheck, type KernelCheckReport, type OpCheck } from '../src/cli/kernel-check.js';
import { ROOT } from './util/cli.js';

const gpu = await getGpu();

describe('kernel check (ser doctor --kernels)', () => {
  it('fails an op whose output is off by more than its tolerance, one that throws and one that compares nothing, and still runs the rest', async () => {
    const relu = (shift: number, name: string): OpCheck => ({
      op: name,
      async run(c) {
        const n = 300;
        const x = c.uniform(n);
        const [xb, yb] = [c.upload(x), c.output(n)];
        run(c.gpu, (r) => reluForward(r, yb, xb, n));
        c.close('relu forward', await c.read(yb, n), reluForwardRef(x).map((v) => v + shift), { atol: 1e-6, rtol: 0 });
      },
    });
    const checks: OpCheck[] = [
      relu(0, 'right'),
      relu(1e-3, 'off by 1e-3'),
      { op: 'throws', run: () => Promise.reject(new Error('bind group mismatch')) },
      { op: 'compares nothing', run: async () => {} },
      relu(0, 'right after the failures'),
    ];
    const r = await checkKernels(gpu, checks);
    console.log(formatKernelCheck(r));
    expect(r.ok).toBe(false);
    expect(r.ops.map((o) => o.ok)).toEqual([true, false, false, false, true]);
    expect(r.ops[0]!.maxDiff).toBe(0);
    expect(r.ops[1]!.maxDiff).toBeCloseTo(1e-3, 6);
    expect(r.ops[1]!.worstRatio).toBeGreaterThan(1);
    expect(r.ops[1]!.failures[0]).toMatch(/relu forward: max \|diff\| 1\.00e-3 .* of tolerance/);
    expect(r.ops[2]!.failures).toEqual(['error: bind group mismatch']);
    expect(r.ops[3]!.failures).toEqual(['no output was compared']);
  });
});

/** The webgpu package as the portable build needs it on this platform: its entry and this platform's binary. */
function copyWebgpu(to: string): void {
  const from = join(ROOT, 'node_modules', 'webgpu');
  const platform = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
  for (const f of ['index.js', 'package.json', join('dist', platform)]) cpSync(join(from, f), join(to, f), { recursive: true });
}

describe('portable build (npm run build)', () => {
  it('runs from a folder holding only dist/ and node_modules/webgpu, with nothing but node on PATH: ser doctor --kernels --json passes every op', () => {
    const build = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'scripts', 'build.ts')], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'ser-portable-'));
    try {
      cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
      copyWebgpu(join(dir, 'node_modules', 'webgpu'));
      mkdirSync(join(dir, 'bin'));
      symlinkSync(process.execPath, join(dir, 'bin', 'node'));
      const env = { PATH: join(dir, 'bin'), HOME: process.env.HOME ?? dir, SER_TUNE: '0' };
      const ser = (...args: string[]) => spawnSync('node', [join('dist', 'ser.mjs'), ...args], { cwd: dir, env, encoding: 'utf8', timeout: 280_000 });
      const d = ser('doctor', '--kernels', '--json');
      expect(d.status, d.stderr).toBe(0);
      const out = JSON.parse(d.stdout.trim().split('\n').pop()!) as { selfTest: { ok: boolean }; kernels: KernelCheckReport };
      expect(out.selfTest.ok).toBe(true);
      const k = out.kernels;
      console.log(k.ops.map((o) => `${o.op}: ${o.comparisons} outputs, max |diff| ${o.maxDiff.toExponential(2)}`).join('\n'));
      expect(k.ok).toBe(true);
      const ops = k.ops.map((o) => o.op).join('\n');
      for (const op of ['axpy', 'relu', 'global average pooling', 'dense', 'maxpool3d', 'softmax', 'adam', 'batchnorm train', 'fused batchnorm', 'dropout', 'conv3d forward, every tune candidate', 'conv3d backward_input, every tune candidate', 'conv3d backward_weight', 'mel front end']) expect(ops).toContain(op);
      for (const o of k.ops) expect(o.comparisons, o.op).toBeGreaterThan(0);
      // The commands that need a package the build leaves out say so, and the rest of the CLI is unaffected.
      const serve = ser('serve');
      expect(serve.status).toBe(1);
      expect(serve.stderr).toMatch(/portable build has no web page/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

/**
 * A stand-in for dist/ser.mjs: prints a plausible JSON result for each step and logs
 * its arguments; the kernel check fails (exit 1 with its JSON) and the front-end
 * benchmark dies without JSON, as a step of a real report might.
 */
const STUB = `
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
fs.appendFileSync(path.join(__dirname, 'calls.txt'), JSON.stringify({ args, tuneCache: process.env.SER_TUNE_CACHE }) + '\\n');
const has = (f) => args.includes(f);
const adapter = { vendor: 'stub', architecture: 'test', device: '', description: 'Stub GPU', backend: 'vulkan', isFallback: false };
const batch = (b) => ({ batch: b, train_step: { batch: b, ours_ms: 10 * b, ours_gflops: 100 }, forward: { batch: b, ours_ms: 3 * b }, train_step_peak_bytes: b * 2 ** 20, peer_error: null });
if (args[0] === 'doctor' && has('--kernels')) {
  console.log(JSON.stringify({ adapter, conv3d: 'direct', selfTest: { ok: true }, kernels: { ok: false, adapter: 'Stub GPU', seconds: 1, ops: [{ op: 'relu forward + backward', ok: true }, { op: 'conv3d tiled kernels', ok: false }] } }));
  process.exit(1);
}
if (args[0] === 'doctor') console.log(JSON.stringify({ adapter, conv3d: 'direct', selfTest: { ok: true } }));
else if (args[0] === 'tune') console.log(JSON.stringify({ adapter: 'stub', cache: process.env.SER_TUNE_CACHE, results: [{}, {}, {}] }));
else if (args[0] === 'bench' && has('--frontend')) { console.error('progress…'); console.error('ser bench: no .wav files in the folder'); process.exit(1); }
else if (args[0] === 'bench') console.log(JSON.stringify({ adapter: 'Stub GPU', batches: [batch(8), batch(32)] }));
else if (args[0] === 'train') { console.log('Test split (61 clips):'); console.log('  …'); console.log(JSON.stringify({ accuracy: 0.5, macro_f1: 0.4, seconds: 12, epochs: 3 })); }
`;

describe('scripts/gpu-report.sh', () => {
  it('runs every step even after one fails, and writes report.json with each step, its failure and the summary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-gpu-report-'));
    try {
      const dist = join(dir, 'dist');
      mkdirSync(dist);
      cpSync(join(ROOT, 'scripts', 'gpu-report.sh'), join(dist, 'gpu-report.sh'));
      // A CommonJS stand-in: dist/ has no package.json, so .mjs would be needed for ESM and .cjs is plain.
      writeFileSync(join(dist, 'ser.cjs'), STUB);
      writeFileSync(join(dist, 'ser.mjs'), "import { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./ser.cjs');\n");
      mkdirSync(join(dir, 'emodb'));
      const out = join(dir, 'report');
      const r = spawnSync('bash', [join(dist, 'gpu-report.sh'), '--data', join(dir, 'emodb'), '--out', out], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE: process.execPath } });
      console.log(r.stderr);
      // A failed step makes the script exit 1, after the report is written.
      expect(r.status).toBe(1);
      const calls = readFileSync(join(dist, 'calls.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { args: string[]; tuneCache: string });
      expect(calls.map((c) => c.args.join(' '))).toEqual([
        'doctor --json',
        'doctor --kernels --json',
        'tune --json --width 1 --batch 8',
        'bench --json --batch 8,32 --width 1',
        `bench --frontend ${join(dir, 'emodb')} --json`,
        `train --data emodb=${join(dir, 'emodb')} --epochs 3 --width 1 --out ${join(out, 'train-run')} --no-cache --json`,
      ]);
      // Every step uses the tuning the report's own tune step made.
      for (const c of calls) expect(c.tuneCache).toBe(join(out, 'conv3d-tuning.json'));

      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(report.format).toBe('ser-gpu-report/1');
      expect(report.ok).toBe(false);
      expect(report.quick).toBe(false);
      expect(report.epochs).toBe(3);
      expect(Object.keys(report.steps)).toEqual(['doctor', 'kernels', 'tune', 'bench', 'frontend', 'train']);
      for (const [name, s] of Object.entries<Record<string, unknown>>(report.steps)) {
        expect(typeof s.seconds, name).toBe('number');
        expect(s.log).toBe(`${name}.log`);
        expect(existsSync(join(out, `${name}.out`)), name).toBe(true);
      }
      const { doctor, kernels, frontend, train } = report.steps;
      expect([doctor.ok, kernels.ok, frontend.ok, train.ok]).toEqual([true, false, false, true]);
      expect(kernels.exit_code).toBe(1);
      expect(kernels.result.kernels.ops).toHaveLength(2);
      expect(frontend.result).toBeNull();
      expect(frontend.error).toMatch(/no \.wav files/);
      expect(train.result.accuracy).toBe(0.5);
      expect(report.summary).toMatchObject({
        adapter: { description: 'Stub GPU' },
        kernels_ok: false,
        kernels_failed: ['conv3d tiled kernels'],
        tuned_shapes: 3,
        train_step_ms: { 8: 80, 32: 320 },
        train_step_peak_gpu_mib: { 8: 8, 32: 32 },
        frontend_real_time: null,
        train_test_accuracy: 0.5,
      });
      expect(report.host.node).toBe(process.version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--quick shrinks every step', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-gpu-report-'));
    try {
      const dist = join(dir, 'dist');
      mkdirSync(dist);
      cpSync(join(ROOT, 'scripts', 'gpu-report.sh'), join(dist, 'gpu-report.sh'));
      writeFileSync(join(dist, 'ser.cjs'), STUB);
      writeFileSync(join(dist, 'ser.mjs'), "import { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./ser.cjs');\n");
      spawnSync('bash', [join(dist, 'gpu-report.sh'), '--quick', '--data', dir, '--out', join(dir, 'report')], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE: process.execPath } });
      const calls = readFileSync(join(dist, 'calls.txt'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { args: string[] }).args.join(' '));
      expect(calls.slice(2)).toEqual([
        'tune --json --width 0.125 --batch 2 --repeats 1',
        'bench --json --batch 2 --width 0.125 --iterations 1 --warmup 0 --kernels none',
        `bench --frontend ${dir} --clips 8 --json`,
        `train --data emodb=${dir} --epochs 1 --width 0.125 --out ${join(dir, 'report', 'train-run')} --no-cache --json`,
      ]);
      expect(JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8')).quick).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
