// End to end on real speech: a short, narrow training run on the EmoDB files in
// ../shared must clearly beat chance on its held-out test split.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { scanDataArgs, CLASS_NAMES } from '../src/data/sources.js';
import { DEFAULT_RUN, trainRun } from '../src/train/run.js';

const EMODB = resolve('../shared/data/emodb');

describe.runIf(existsSync(EMODB))('training on EmoDB', () => {
  it('a width-1/16 network trained for a few epochs beats chance on the test split', async () => {
    const gpu = await getGpu();
    const { items } = await scanDataArgs([`emodb=${EMODB}`]);
    expect(items.length).toBe(350);
    const out = mkdtempSync(join(tmpdir(), 'ser-emodb-'));
    const r = await trainRun(gpu, items, {
      ...DEFAULT_RUN,
      out,
      classes: CLASS_NAMES,
      epochs: 5,
      bnMomentum: 0.9,
      batch: 16,
      width: 1 / 16,
      seed: 1,
      augmentCopies: 0,
      cacheDir: join(out, 'cache'),
      quiet: true,
    });
    // Six classes are present (boredom dropped); the majority class (anger) is 100/350.
    console.log(`EmoDB test accuracy ${r.test.accuracy.toFixed(3)}, macro F1 ${r.test.macro_f1.toFixed(3)}, ${r.seconds.toFixed(0)} s`);
    expect(r.test.accuracy).toBeGreaterThan(0.4);
    for (const f of ['best.safetensors', 'last.safetensors', 'config.json', 'history.json', 'curves.svg', 'test_report.txt', 'confusion.svg']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'test_report.txt'), 'utf8')).toMatch(/macro avg/);
  }, 600_000);
});
