import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { apportion, leaveOneSpeakerOut, splitItems, type Split } from '../src/data/split.js';
import { Rng, deriveSeed } from '../src/util/rng.js';
import { classCounts, scanCorpus } from '../src/data/corpora.js';

interface It {
  id: number;
  label: number;
  speaker: string;
}

/** Unbalanced classes and speakers of different sizes, as in the real corpora. */
function makeItems(n: number, seed: number, speakers = 10): It[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, id) => ({ id, label: Math.min(6, Math.floor(rng.next() ** 1.5 * 7)), speaker: `s${Math.floor(rng.next() ** 2 * speakers)}` }));
}

function expectPartition(items: It[], s: Split<It>): void {
  const ids = [...s.train, ...s.val, ...s.test].map((i) => i.id);
  expect(new Set(ids).size, 'subsets are disjoint').toBe(ids.length);
  expect(ids.sort((a, b) => a - b)).toEqual(items.map((i) => i.id));
}

describe('rng', () => {
  it('is reproducible by seed, differs between seeds and sub-streams, and is roughly uniform and normal', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(42)));
    const b = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(42)));
    const c = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(43)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(deriveSeed(1, 0, 1)).not.toBe(deriveSeed(1, 1, 0));
    const r = new Rng(7);
    const u = Array.from({ length: 20000 }, () => r.next());
    const g = Array.from({ length: 20000 }, () => r.normal());
    const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
    const std = Math.sqrt(mean(g.map((v) => v * v)) - mean(g) ** 2);
    console.log(`uniform mean ${mean(u).toFixed(4)}, normal mean ${mean(g).toFixed(4)} std ${std.toFixed(4)}`);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(mean(g))).toBeLessThan(0.03);
    expect(Math.abs(std - 1)).toBeLessThan(0.03);
  });
});

describe('splitItems, random mode', () => {
  it('apportions every count to within one of its share and sums exactly', () => {
    for (let n = 0; n < 200; n++) {
      const c = apportion(n, [0.7, 0.15, 0.15]);
      expect(c[0]! + c[1]! + c[2]!).toBe(n);
      [0.7, 0.15, 0.15].forEach((r, s) => expect(Math.abs(c[s]! - n * r)).toBeLessThan(1));
    }
  });

  it('partitions the items and stratifies each class within ±1 of 70/15/15', () => {
    for (const [n, seed] of [[1, 1], [7, 2], [100, 3], [1001, 4]] as const) {
      const items = makeItems(n, seed);
      const s = splitItems(items, { seed });
      expectPartition(items, s);
      const total = classCounts(items);
      let worst = 0;
      (['train', 'val', 'test'] as const).forEach((k, j) => {
        const c = classCounts(s[k]);
        total.forEach((t, cls) => (worst = Math.max(worst, Math.abs(c[cls]! - t * [0.7, 0.15, 0.15][j]!))));
      });
      console.log(`n=${n}: largest per-class deviation from target ${worst.toFixed(2)}`);
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  it('is deterministic by seed and changes with it; subsets keep input order', () => {
    const items = makeItems(300, 9);
    const a = splitItems(items, { seed: 5 });
    const b = splitItems(items, { seed: 5 });
    const c = splitItems(items, { seed: 6 });
    expect(a.test.map((i) => i.id)).toEqual(b.test.map((i) => i.id));
    expect(a.test.map((i) => i.id)).not.toEqual(c.test.map((i) => i.id));
    for (const k of ['train', 'val', 'test'] as const) expect(a[k].map((i) => i.id)).toEqual([...a[k].map((i) => i.id)].sort((x, y) => x - y));
  });

  it('honours custom ratios and rejects bad ones', () => {
    const items = makeItems(200, 10);
    const s = splitItems(items, { seed: 1, ratios: [80, 20, 0] });
    expect(s.test).toHaveLength(0);
    expect(Math.abs(s.val.length - 40)).toBeLessThanOrEqual(7);
    expect(() => splitItems(items, { seed: 1, ratios: [1, -1, 1] })).toThrow(/non-negative/);
  });
});

describe('splitItems, speaker mode', () => {
  it('keeps every speaker in exactly one subset, with all three non-empty, deterministically', () => {
    for (const seed of [1, 2, 3]) {
      const items = makeItems(600, seed, 12);
      const s = splitItems(items, { seed, mode: 'speaker' });
      expectPartition(items, s);
      const spk = (k: keyof Split<It>) => new Set(s[k].map((i) => i.speaker));
      const [tr, va, te] = [spk('train'), spk('val'), spk('test')];
      for (const x of tr) expect(va.has(x) || te.has(x), x).toBe(false);
      for (const x of va) expect(te.has(x), x).toBe(false);
      expect(Math.min(tr.size, va.size, te.size)).toBeGreaterThan(0);
      const again = splitItems(items, { seed, mode: 'speaker' });
      expect(again.val.map((i) => i.id)).toEqual(s.val.map((i) => i.id));
    }
  });

  it('balances EmoDB speakers near 70/15/15 (8 speakers)', () => {
    const { items } = scanCorpus('emodb', join(process.cwd(), '..', 'shared', 'data', 'emodb-original'));
    const s = splitItems(items, { seed: 1, mode: 'speaker' });
    const fr = (k: keyof typeof s) => s[k].length / items.length;
    const speakers = (k: keyof typeof s) => [...new Set(s[k].map((i) => i.speaker))].sort().join(' ');
    console.log(`emodb by speaker: train ${fr('train').toFixed(3)} [${speakers('train')}], val ${fr('val').toFixed(3)} [${speakers('val')}], test ${fr('test').toFixed(3)} [${speakers('test')}]`);
    // With ~44 items per speaker, 15 % of 350 is about one speaker; each subset is within one speaker of its share.
    expect(Math.abs(fr('train') - 0.7)).toBeLessThan(0.13);
    expect(Math.abs(fr('val') - 0.15)).toBeLessThan(0.13);
    expect(Math.abs(fr('test') - 0.15)).toBeLessThan(0.13);
  });

  it('refuses a speaker split with fewer speakers than subsets', () => {
    const items = makeItems(50, 1, 1);
    expect(() => splitItems(items, { seed: 1, mode: 'speaker' })).toThrow(/at least 3 speakers, got 1/);
  });
});

describe('leaveOneSpeakerOut', () => {
  it('gives one fold per speaker, test = that speaker, train = everyone else', () => {
    const items = makeItems(200, 4, 6);
    const folds = leaveOneSpeakerOut(items);
    const speakers = [...new Set(items.map((i) => i.speaker))].sort();
    expect(folds.map((f) => f.speaker)).toEqual(speakers);
    for (const f of folds) {
      expect(f.test.every((i) => i.speaker === f.speaker)).toBe(true);
      expect(f.train.some((i) => i.speaker === f.speaker)).toBe(false);
      expect(f.train.length + f.test.length).toBe(items.length);
    }
    expect(folds.reduce((a, f) => a + f.test.length, 0)).toBe(items.length);
  });
});
