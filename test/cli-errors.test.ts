// What a user sees when things go wrong, from the real `ser` command in a child
// process: bad audio files, corrupt checkpoints and bad options each give one line
// on stderr naming the file and the reason (never a stack trace), a non-zero exit
// code (2 for usage errors, 1 for the rest), and no hang.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { brokenAudio, testSignal, wav16 } from './util/audio-files.js';
import { ROOT, runSer, STACK_FRAME, writeTinyRun, type SerResult } from './util/cli.js';

const root = mkdtempSync(join(tmpdir(), 'ser-cli-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const run = join(root, 'run');
const checkpoint = join(run, 'best.safetensors');
const data = join(root, 'synth');

beforeAll(async () => {
  mkdirSync(run);
  await writeTinyRun(await getGpu(), run);
  // One labelled clip is enough for `evaluate` to reach the checkpoint.
  mkdirSync(join(data, 's01'), { recursive: true });
  writeFileSync(join(data, 's01', 's01_angry_01.wav'), wav16(testSignal(1, 22050), 22050));
});

function show(r: SerResult): string {
  return `exit ${r.code}${r.timedOut ? ' (TIMED OUT)' : ''} in ${r.seconds.toFixed(1)} s\n${r.stderr}`;
}

/** Non-zero exit, no hang, no stack frame. */
function expectCleanFailure(r: SerResult, code: number): void {
  expect(r.timedOut, show(r)).toBe(false);
  expect(r.code, show(r)).toBe(code);
  expect(r.stderr, show(r)).not.toMatch(STACK_FRAME);
}

describe('ser predict on files that cannot be decoded', () => {
  it('prints one line per bad file naming it and the reason, predicts the good ones, exits 1', async () => {
    const dir = join(root, 'audio');
    mkdirSync(dir);
    const bad: Record<string, RegExp> = {};
    for (const [name, b] of Object.entries(brokenAudio())) {
      const p = join(dir, `${name}.wav`);
      writeFileSync(p, b.bytes);
      bad[p] = b.reason;
    }
    const folder = join(dir, 'folder.wav');
    mkdirSync(folder);
    bad[folder] = /not a regular file/;
    bad[join(dir, 'missing.wav')] = /cannot read: ENOENT/;
    const good = join(dir, 'good.wav');
    writeFileSync(good, wav16(testSignal(1.5, 16000), 16000));
    const tiny = join(dir, 'tiny.wav'); // 20 samples: shorter than one FFT frame, still a prediction
    writeFileSync(tiny, wav16(testSignal(20 / 22050, 22050), 22050));

    const r = await runSer(['predict', '--model', checkpoint, good, ...Object.keys(bad), tiny]);
    console.log(show(r));
    expectCleanFailure(r, 1);
    expect(r.errLines.length, show(r)).toBe(Object.keys(bad).length);
    for (const [path, reason] of Object.entries(bad)) {
      const lines = r.errLines.filter((l) => l.startsWith(`ser predict: ${path}: `));
      expect(lines.length, `${path}\n${show(r)}`).toBe(1);
      expect(lines[0]).toMatch(reason);
    }
    expect(r.stdout).toContain(`${good}  (1.50 s)`);
    expect(r.stdout).toContain(`${tiny}  (0.00 s)`);
  });

  it('accepts the run folder as --model (its best.safetensors)', async () => {
    const good = join(root, 'audio', 'good.wav');
    const r = await runSer(['predict', '--model', run, good, '--json']);
    expect(r.code, show(r)).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { file: string; top: { emotion: string; probability: number }[] };
    expect(out.file).toBe(good);
    expect(out.top.length).toBe(3);
  });
});

describe.concurrent('ser evaluate and train with a broken model or data', () => {
  /** A run folder holding `bytes` as best.safetensors and, unless null, `config` as config.json. */
  function brokenRun(name: string, bytes: Uint8Array, config: string | null): string {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'best.safetensors'), bytes);
    if (config !== null) writeFileSync(join(dir, 'config.json'), config);
    return join(dir, 'best.safetensors');
  }
  const cases: { name: string; make: () => string; reason: RegExp }[] = [
    {
      name: 'truncated checkpoint',
      make: () => {
        const b = readFileSync(checkpoint);
        return brokenRun('truncated', b.subarray(0, Math.floor(b.length / 2)), readFileSync(join(run, 'config.json'), 'utf8'));
      },
      reason: /checkpoint .*truncated\/best\.safetensors: tensor \S+: data_offsets \[\d+, \d+\] run past the \d+ data bytes/,
    },
    {
      name: 'hostile header (a shape of 10^18 values)',
      make: () => {
        const json = Buffer.from(JSON.stringify({ 'conv1.kernel': { dtype: 'F32', shape: [1e9, 1e9], data_offsets: [0, 16] } }));
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(json.length));
        return brokenRun('hostile', Buffer.concat([len, json, Buffer.alloc(16)]), readFileSync(join(run, 'config.json'), 'utf8'));
      },
      reason: /checkpoint .*hostile\/best\.safetensors: tensor conv1\.kernel: shape \[1000000000, 1000000000\] needs more bytes than the file holds/,
    },
    {
      name: 'shapes that do not match config.json',
      make: () => {
        const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as { width: number };
        cfg.width = 0.06;
        return brokenRun('wrong-shapes', readFileSync(checkpoint), JSON.stringify(cfg));
      },
      reason: /checkpoint .*wrong-shapes\/best\.safetensors: tensor \S+: shape \[[\d, ]+\], model expects \[[\d, ]+\]/,
    },
    {
      name: 'missing config.json',
      make: () => brokenRun('no-config', readFileSync(checkpoint), null),
      reason: /cannot read model config .*no-config\/config\.json: ENOENT/,
    },
    {
      name: 'config.json that is not JSON',
      make: () => brokenRun('bad-config', readFileSync(checkpoint), '{"format": "ser-webgpu", "classes": ['),
      reason: /cannot read model config .*bad-config\/config\.json: .*JSON/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: one line naming the file and the problem, exit 1`, async () => {
      const model = c.make();
      const r = await runSer(['evaluate', '--model', model, '--data', `synth=${data}`]);
      console.log(`${c.name}: ${show(r)}`);
      expectCleanFailure(r, 1);
      expect(r.errLines.length, show(r)).toBe(1);
      expect(r.errLines[0]).toMatch(/^ser evaluate: /);
      expect(r.errLines[0]).toMatch(c.reason);
    });
  }

  /** A synth-layout corpus of `n` empty files: labelled by name, none decodable. */
  function emptyCorpus(name: string, n: number): string {
    const dir = join(root, name);
    for (let i = 0; i < n; i++) {
      const speaker = `s0${1 + (i % 4)}`;
      mkdirSync(join(dir, speaker), { recursive: true });
      writeFileSync(join(dir, speaker, `${speaker}_${['angry', 'sad', 'happy'][i % 3]}_${String(10 + i)}.wav`), '');
    }
    return dir;
  }

  it('evaluate on data none of which decodes: lists the files, then fails with one line, exit 1', async () => {
    const r = await runSer(['evaluate', '--model', checkpoint, '--data', `synth=${emptyCorpus('empty-eval', 3)}`]);
    console.log(`evaluate, nothing decodable: ${show(r)}`);
    expectCleanFailure(r, 1);
    expect(r.errLines.filter((l) => /^skipped .*: empty file$/.test(l)).length).toBe(3);
    expect(r.errLines[r.errLines.length - 1]).toBe('ser evaluate: none of the 3 labelled files could be decoded (reasons above)');
  });

  it('train on data none of which decodes: fails with one line naming a file and its reason, exit 1', async () => {
    const r = await runSer(['train', '--data', `synth=${emptyCorpus('empty-train', 12)}`, '--out', join(root, 'empty-run'), '--quiet', '--no-cache']);
    console.log(`train, nothing decodable: ${show(r)}`);
    expectCleanFailure(r, 1);
    expect(r.errLines[r.errLines.length - 1]).toMatch(/^ser train: no decodable clips left in the training part: 12 files skipped, e\.g\. \S+\.wav: \S+\.wav: empty file$/);
  });
});

describe.concurrent('bad options: exit 2 with a usage message, before any work', () => {
  const out = join(root, 'out');
  const cases: { title: string; args: () => string[]; reason: RegExp }[] = [
    { title: 'an unknown command', args: () => ['bogus'], reason: /unknown command 'bogus'/ },
    { title: 'predict with an unknown option', args: () => ['predict', '--model', checkpoint, '--frobnicate', 'x.wav'], reason: /Unknown option '--frobnicate'/ },
    { title: 'predict without files', args: () => ['predict', '--model', checkpoint], reason: /no input files/ },
    { title: 'evaluate --batch abc', args: () => ['evaluate', '--model', checkpoint, '--data', `synth=${data}`, '--batch', 'abc'], reason: /--batch must be an integer >= 1, got 'abc'/ },
    { title: 'train --epochs abc', args: () => ['train', '--data', `synth=${data}`, '--out', out, '--epochs', 'abc'], reason: /--epochs must be an integer >= 1, got 'abc'/ },
    { title: 'train --split sideways', args: () => ['train', '--data', `synth=${data}`, '--out', out, '--split', 'sideways'], reason: /--split must be one of random, speaker, got 'sideways'/ },
    { title: 'train --data with an unknown corpus kind', args: () => ['train', '--data', `nosuch=${data}`, '--out', out], reason: /unknown corpus kind 'nosuch'/ },
    { title: 'demo --epochs 1.5', args: () => ['demo', '--epochs', '1.5'], reason: /--epochs must be an integer >= 1, got '1.5'/ },
    { title: 'demo --seconds 0.1', args: () => ['demo', '--seconds', '0.1'], reason: /--seconds must be a number >= 0.5 <= 30, got '0.1'/ },
    { title: 'demo --speakers 2', args: () => ['demo', '--speakers', '2'], reason: /--speakers must be an integer >= 3 <= 64, got '2'/ },
    { title: 'doctor with an unknown option', args: () => ['doctor', '--bogus'], reason: /Unknown option '--bogus'/ },
  ];
  for (const c of cases) {
    it(c.title, async () => {
      const r = await runSer(c.args());
      expectCleanFailure(r, 2);
      expect(r.stderr).toMatch(c.reason);
      expect(r.stderr).toMatch(/Usage: ser|Run 'ser \w+ --help'/);
      // Checked before the GPU starts (Dawn prints its warnings when a device is created).
      expect(r.stderr).not.toContain('Warning: maxDynamic');
    });
  }
});

describe.concurrent('bench/emodb_results.ts with bad options: exit 2 with its usage, before any work', () => {
  const cases: { title: string; args: string[]; reason: RegExp }[] = [
    { title: 'a row name the table does not have', args: ['ablation', '--only', 'oversampling'], reason: /--only oversampling: no such row of the ablation table \(its rows: recipe, no-augment, cross-entropy, no-oversample, no-recalibration\)/ },
    { title: 'an unknown engine', args: ['random', '--engine', 'keras'], reason: /--engine: ours or torch, not 'keras'/ },
    { title: 'an unknown table', args: ['sideways'], reason: /unknown table 'sideways'/ },
  ];
  for (const c of cases) {
    it(c.title, async () => {
      const r = await runSer([...c.args, '--out', join(root, 'emodb-out')], { cwd: ROOT, entry: ['--import', 'tsx', 'bench/emodb_results.ts'] });
      expectCleanFailure(r, 2);
      expect(r.stderr).toMatch(c.reason);
      expect(r.stderr).toContain('The EmoDB benchmark of docs/RESULTS.md');
      expect(r.stderr).not.toContain('Warning: maxDynamic');
      expect(existsSync(join(root, 'emodb-out'))).toBe(false);
    });
  }
});
