// End to end on real speech: the whole `ser train` pipeline on the EmoDB files in
// ../shared — scan, split, GPU features, training with callbacks, checkpoints,
// report. A CI-sized run (narrow network, few epochs on a CPU adapter) learns the
// training data but is too short to generalise; test accuracy over many epochs
// is measured by bench/emodb_results.ts, not here.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { scanDataArgs, CLASS_NAMES } from '../src/data/sources.js';
import { DEFAULT_RUN, trainRun } from '../src/train/run.js';

const EMODB = resolve('../shared/data/emodb');

describe.runIf(existsSync(EMODB))('training on EmoDB', () => {
  it('a short narrow run learns the training data and writes every run artefact', async () => {
    const gpu = await getGpu();
    const { items } = await scanDataArgs([`emodb=${EMODB}`]);
    expect(items.length).toBe(350);
    const out = mkdtempSync(join(tmpdir(), 'ser-emodb-'));
    const r = await trainRun(gpu, items, {
      ...DEFAULT_RUN,
      out,
      classes: CLASS_NAMES,
      epochs: 4,
      bnMomentum: 0.9,
      batch: 16,
      width: 1 / 8,
      lr: 3e-3,
      seed: 1,
      augmentCopies: 0,
      cacheDir: join(out, 'cache'),
      quiet: true,
    });
    const h = r.fit.history;
    console.log(`EmoDB: train accuracy ${h.map((e) => e.accuracy.toFixed(3)).join(' → ')}, test accuracy ${r.test.accuracy.toFixed(3)}, ${r.seconds.toFixed(0)} s`);
    // Six classes are present (boredom dropped), balanced by oversampling: chance is 1/6.
    expect(h[h.length - 1]!.loss).toBeLessThan(h[0]!.loss);
    expect(Math.max(...h.map((e) => e.accuracy))).toBeGreaterThan(1 / 6 + 0.08);
    expect(r.test.support).toBe(r.test.confusion.flat().reduce((a, b) => a + b, 0));
    for (const f of ['best.safetensors', 'last.safetensors', 'config.json', 'history.json', 'curves.svg', 'test_report.txt', 'confusion.svg']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'test_report.txt'), 'utf8')).toMatch(/macro avg/);
  }, 600_000);
});
