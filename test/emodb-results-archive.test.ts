// bench/emodb_results.ts --archive: the tabulated runs' small JSON files (no weights)
// copied in the runs' own layout, so that `--summary --out` on the archive tabulates the
// same rows on another machine or after the run folders are gone.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RUN } from '../src/train/run.js';
import { ROOT, runSer } from './util/cli.js';

const ENTRY = ['--import', 'tsx', 'bench/emodb_results.ts'];

/** A finished run of ours as the random table's seed `seed` leaves it, at width 1/8 and otherwise the defaults. */
function fakeRun(out: string, seed: number, accuracy: number): void {
  const dir = join(out, 'random', 'ours', `seed${seed}`);
  mkdirSync(dir, { recursive: true });
  const config = {
    width: 0.125, epochs: 300, batch: DEFAULT_RUN.batch, lr: DEFAULT_RUN.lr, bnMomentum: DEFAULT_RUN.bnMomentum, seed,
    augmentCopies: DEFAULT_RUN.augmentCopies, oversample: DEFAULT_RUN.oversample, recalibrateBatches: DEFAULT_RUN.recalibrateBatches,
    callbacks: DEFAULT_RUN.callbacks, loss: { kind: DEFAULT_RUN.loss },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'history.json'), JSON.stringify([0.4, 0.6, 0.5].map((v, epoch) => ({ epoch, val_accuracy: v }))));
  writeFileSync(join(dir, 'row.json'), JSON.stringify({ name: `seed${seed}`, engine: 'ours', accuracy, macro_f1: 0.5, epochs: 3, best_epoch: 2, seconds: 10 }));
  writeFileSync(join(dir, 'best.safetensors'), 'weights stay behind');
}

const root = mkdtempSync(join(tmpdir(), 'ser-archive-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('bench/emodb_results.ts --archive', () => {
  it('copies the tabulated runs without their weights, and the archive tabulates the same rows', async () => {
    const [out, archive] = [join(root, 'runs'), join(root, 'archive')];
    fakeRun(out, 0, 0.625);
    fakeRun(out, 1, 0.75);
    const args = ['random', '--summary', '--width', '0.125', '--seeds', '0,1'];
    const first = await runSer([...args, '--out', out, '--archive', archive], { cwd: ROOT, entry: ENTRY });
    expect(first.code, first.stderr).toBe(0);
    for (const seed of [0, 1]) {
      const dir = join(archive, 'random', 'ours', `seed${seed}`);
      expect(readdirSync(dir).sort()).toEqual(['config.json', 'history.json', 'row.json']);
      expect(readFileSync(join(dir, 'row.json'), 'utf8')).toBe(readFileSync(join(out, 'random', 'ours', `seed${seed}`, 'row.json'), 'utf8'));
    }
    const table = readFileSync(join(out, 'random.md'), 'utf8');
    expect(table).toContain('68.8 ± 8.8 % (2)');
    const again = await runSer([...args, '--out', archive], { cwd: ROOT, entry: ENTRY });
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(archive, 'random.md'), 'utf8')).toBe(table);
    // A run with other settings is neither tabulated nor archived.
    const other = join(root, 'archive-wide');
    const wide = await runSer(['random', '--summary', '--width', '0.25', '--seeds', '0,1', '--out', out, '--archive', other], { cwd: ROOT, entry: ENTRY });
    expect(wide.code, wide.stderr).toBe(0);
    expect(existsSync(join(other, 'random'))).toBe(false);
  });
});
