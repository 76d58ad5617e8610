// Train/validation/test splits, seeded. `random` stratifies per class (each subset
// within one item of its share of every class); `speaker` keeps each speaker in exactly
// one subset so a model is scored on voices it never heard, and balances classes as far
// as whole speakers allow. Subsets keep the input order, so they read like the scan.
import { Rng } from '../util/rng.js';

export type SplitMode = 'random' | 'speaker';

export interface Split<T> {
  train: T[];
  val: T[];
  test: T[];
}

export interface SplitOptions {
  seed: number;
  mode?: SplitMode;
  /** train, val, test fractions; normalised, so [70, 15, 15] works too. */
  ratios?: readonly [number, number, number];
}

export interface Fold<T> {
  speaker: string;
  train: T[];
  test: T[];
}

type Labelled = { label: number; speaker: string };

const SUBSETS = ['train', 'val', 'test'] as const;

function normalise(ratios: readonly number[]): number[] {
  const sum = ratios.reduce((a, b) => a + b, 0);
  if (ratios.length !== 3 || ratios.some((r) => !(r >= 0)) || !(sum > 0)) {
    throw new Error(`split ratios must be three non-negative numbers with a positive sum, got [${ratios.join(', ')}]`);
  }
  return ratios.map((r) => r / sum);
}

/** Integer shares of n closest to n·ratios that sum to n (largest remainder), so each is within 1 of its target. */
export function apportion(n: number, ratios: readonly number[]): number[] {
  const exact = ratios.map((r) => n * r);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  // Stable order on equal remainders: earlier subsets (train) first.
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    counts[i]!++;
  }
  return counts;
}

function gather<T>(items: readonly T[], subsetOf: Int8Array): Split<T> {
  const out: Split<T> = { train: [], val: [], test: [] };
  items.forEach((it, i) => out[SUBSETS[subsetOf[i]!]!].push(it));
  return out;
}

function splitRandom<T extends Labelled>(items: readonly T[], ratios: number[], rng: Rng): Split<T> {
  const byClass = new Map<number, number[]>();
  items.forEach((it, i) => {
    const list = byClass.get(it.label) ?? [];
    list.push(i);
    byClass.set(it.label, list);
  });
  const subsetOf = new Int8Array(items.length);
  // Classes in label order so the stream of random draws does not depend on item order.
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = rng.shuffle(byClass.get(label)!);
    const counts = apportion(idx.length, ratios);
    let k = 0;
    counts.forEach((c, s) => {
      for (let j = 0; j < c; j++) subsetOf[idx[k++]!] = s;
    });
  }
  return gather(items, subsetOf);
}

function splitBySpeaker<T extends Labelled>(items: readonly T[], ratios: number[], rng: Rng): Split<T> {
  const classes = items.reduce((m, it) => Math.max(m, it.label + 1), 0);
  const speakers = new Map<string, number[]>();
  for (const it of items) {
    const c = speakers.get(it.speaker) ?? new Array<number>(classes).fill(0);
    c[it.label]!++;
    speakers.set(it.speaker, c);
  }
  const needed = ratios.filter((r) => r > 0).length;
  if (speakers.size < needed) {
    throw new Error(`a speaker split into ${needed} non-empty subsets needs at least ${needed} speakers, got ${speakers.size}`);
  }
  const total = new Array<number>(classes).fill(0);
  for (const it of items) total[it.label]!++;
  const target = ratios.map((r) => total.map((t) => r * t));
  const count = ratios.map(() => new Array<number>(classes).fill(0));
  const size = (s: string) => speakers.get(s)!.reduce((a, b) => a + b, 0);
  // Largest speakers first is the classic greedy for bin balancing; the seed breaks ties.
  const names = [...speakers.keys()].sort();
  const order = rng.shuffle(names).sort((a, b) => size(b) - size(a));
  const assigned = new Map<string, number>();
  order.forEach((spk, k) => {
    const x = speakers.get(spk)!;
    const empty = ratios.map((r, s) => r > 0 && count[s]!.every((n) => n === 0));
    // When only as many speakers remain as empty subsets, each must go to one of them.
    const forced = order.length - k <= empty.filter(Boolean).length;
    let best = -1;
    let bestCost = Infinity;
    for (let s = 0; s < ratios.length; s++) {
      if (ratios[s] === 0 || (forced && !empty[s])) continue;
      // Change of a chi-square-like deviation of class counts from their targets.
      let cost = 0;
      for (let c = 0; c < classes; c++) {
        const t = target[s]![c]!;
        const before = count[s]![c]! - t;
        const after = before + x[c]!;
        cost += (after * after - before * before) / (t + 1);
      }
      if (cost < bestCost) [best, bestCost] = [s, cost];
    }
    for (let c = 0; c < classes; c++) count[best]![c]! += x[c]!;
    assigned.set(spk, best);
  });
  const subsetOf = Int8Array.from(items, (it) => assigned.get(it.speaker)!);
  return gather(items, subsetOf);
}

/** Splits items into train/val/test (70/15/15 by default). Deterministic for a given seed and input. */
export function splitItems<T extends Labelled>(items: readonly T[], options: SplitOptions): Split<T> {
  const ratios = normalise(options.ratios ?? [0.7, 0.15, 0.15]);
  const rng = new Rng(options.seed);
  const mode = options.mode ?? 'random';
  if (mode === 'random') return splitRandom(items, ratios, rng);
  if (mode === 'speaker') return splitBySpeaker(items, ratios, rng);
  throw new Error(`unknown split mode '${String(mode)}' (random, speaker)`);
}

/** One fold per speaker (sorted by name): that speaker's items are the test set, everyone else trains. */
export function leaveOneSpeakerOut<T extends Labelled>(items: readonly T[]): Fold<T>[] {
  const speakers = [...new Set(items.map((it) => it.speaker))].sort();
  return speakers.map((speaker) => ({
    speaker,
    train: items.filter((it) => it.speaker !== speaker),
    test: items.filter((it) => it.speaker === speaker),
  }));
}
