// Corpus loaders: walk a directory of one emotional-speech corpus and label each file
// from its name, as the corpora are distributed. Only names are read (and, with
// `checkHeader`, the first 12 bytes), so a scan of thousands of files is instant; the
// audio is decoded later. A file that cannot be labelled is listed with its reason
// rather than aborting the scan, because real copies of these corpora contain strays.
import { closeSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../util/errors.js';

/** The 7 classes, in label order. */
export const EMOTIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'] as const;
export type Emotion = (typeof EMOTIONS)[number];

export const CORPUS_KINDS = ['ravdess', 'tess', 'savee', 'emodb'] as const;
export type CorpusKind = (typeof CORPUS_KINDS)[number];

export interface Item {
  path: string;
  corpus: CorpusKind;
  /** Corpus-qualified, e.g. `ravdess:01`, so speakers of different corpora never collide. */
  speaker: string;
  emotion: Emotion;
  /** Index into EMOTIONS. */
  label: number;
}

export interface Skipped {
  path: string;
  reason: string;
}

export interface ScanResult {
  items: Item[];
  skipped: Skipped[];
}

export interface CorpusSpec {
  kind: CorpusKind;
  dir: string;
}

export interface ScanOptions {
  /** Also read each file's first bytes and skip those that are not RIFF/WAVE (e.g. AIFF named .wav). */
  checkHeader?: boolean;
}

type Parsed = { speaker: string; emotion: Emotion } | { reason: string };

const RAVDESS_EMOTIONS: Record<string, Emotion> = {
  '01': 'neutral', '02': 'neutral', // calm is merged into neutral
  '03': 'happy', '04': 'sad', '05': 'angry', '06': 'fearful', '07': 'disgust', '08': 'surprised',
};

function parseRavdess(path: string): Parsed {
  const m = /^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})\.wav$/i.exec(basename(path));
  if (!m) return { reason: 'name is not MM-VV-EE-II-SS-RR-AA.wav' };
  const [, modality, channel, emo, , , , actor] = m;
  if (modality !== '03') return { reason: `modality ${modality} is not 03 (audio-only)` };
  if (channel !== '01') return { reason: `vocal channel ${channel} is not 01 (speech)` };
  const emotion = RAVDESS_EMOTIONS[emo!];
  if (!emotion) return { reason: `unknown emotion code ${emo}` };
  return { speaker: `ravdess:${actor}`, emotion };
}

const TESS_EMOTIONS: Record<string, Emotion> = {
  angry: 'angry', disgust: 'disgust', fear: 'fearful', happy: 'happy', neutral: 'neutral', sad: 'sad',
  ps: 'surprised', pleasant_surprise: 'surprised', pleasant_surprised: 'surprised',
};

/** `OAF_Pleasant_surprise` → ['OAF', 'pleasant_surprise']; null unless it looks like SPK_rest. */
function splitTessName(name: string): [string, string] | null {
  const i = name.indexOf('_');
  return i > 0 ? [name.slice(0, i).toUpperCase(), name.slice(i + 1).toLowerCase()] : null;
}

function parseTess(path: string): Parsed {
  const file = basename(path);
  if (!/\.wav$/i.test(file)) return { reason: 'not a .wav file' };
  const stem = file.slice(0, -4);
  // <speaker>_<word>_<emotion>: the emotion is everything after the word, since it may itself hold '_'.
  const parts = stem.split('_');
  const folder = splitTessName(basename(dirname(path)));
  const fileEmotion = parts.length >= 3 ? TESS_EMOTIONS[parts.slice(2).join('_').toLowerCase()] : undefined;
  const emotion = fileEmotion ?? (folder ? TESS_EMOTIONS[folder[1]] : undefined);
  if (!emotion) return { reason: `no TESS emotion in '${file}' or its folder` };
  const speaker = parts.length >= 3 ? parts[0]!.toUpperCase() : folder?.[0];
  if (!speaker || !/^[A-Z]+$/.test(speaker)) return { reason: 'no TESS speaker prefix (OAF_/YAF_)' };
  return { speaker: `tess:${speaker}`, emotion };
}

const SAVEE_EMOTIONS: Record<string, Emotion> = {
  a: 'angry', d: 'disgust', f: 'fearful', h: 'happy', n: 'neutral', sa: 'sad', su: 'surprised',
};

function parseSavee(path: string): Parsed {
  const file = basename(path);
  // Flat `DC_a01.wav`, or per-speaker folders `DC/a01.wav`.
  const flat = /^([A-Za-z]{2})_([a-z]{1,2})(\d+)\.wav$/i.exec(file);
  const nested = /^([a-z]{1,2})(\d+)\.wav$/i.exec(file);
  const folder = basename(dirname(path));
  let speaker: string;
  let code: string;
  if (flat) [speaker, code] = [flat[1]!, flat[2]!];
  else if (nested && /^[A-Za-z]{2}$/.test(folder)) [speaker, code] = [folder, nested[1]!];
  else return { reason: 'name is not SS_cNN.wav or SS/cNN.wav' };
  const emotion = SAVEE_EMOTIONS[code.toLowerCase()];
  if (!emotion) return { reason: `unknown emotion code '${code}'` };
  return { speaker: `savee:${speaker.toUpperCase()}`, emotion };
}

const EMODB_EMOTIONS: Record<string, Emotion | null> = {
  W: 'angry', E: 'disgust', A: 'fearful', F: 'happy', T: 'sad', N: 'neutral', L: null,
};

function parseEmodb(path: string): Parsed {
  const m = /^(\d{2})([a-z]\d{2})([A-Z])([a-z])\.wav$/.exec(basename(path));
  if (!m) return { reason: 'name is not SSTTTEV.wav' };
  const emotion = EMODB_EMOTIONS[m[3]!];
  if (emotion === null) return { reason: 'boredom (L) is not one of the 7 classes' };
  if (!emotion) return { reason: `unknown emotion letter ${m[3]}` };
  return { speaker: `emodb:${m[1]}`, emotion };
}

const PARSERS: Record<CorpusKind, (path: string) => Parsed> = {
  ravdess: parseRavdess, tess: parseTess, savee: parseSavee, emodb: parseEmodb,
};

/** Why a file is not a readable RIFF/WAVE, or null when its header says it is. */
export function sniffWav(path: string): string | null {
  const head = Buffer.alloc(12);
  let n: number;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, head, 0, 12, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    return `cannot read: ${(e as Error).message}`;
  }
  if (n === 0) return 'empty file';
  if (n < 12) return `file too short for a WAV header (${n} bytes)`;
  const riff = head.toString('latin1', 0, 4);
  const form = head.toString('latin1', 8, 12);
  if ((riff === 'RIFF' || riff === 'RIFX' || riff === 'RF64') && form === 'WAVE') return null;
  if (riff === 'FORM' && (form === 'AIFF' || form === 'AIFC')) return `${form} file named .wav`;
  return 'not a RIFF/WAVE file';
}

/** Every file under dir, sorted by name so a scan is deterministic on any filesystem. */
function walk(dir: string, files: string[], skipped: Skipped[], depth = 0, seen = new Set<string>()): void {
  // A directory reached twice (a symbolic link to an ancestor or a sibling) would
  // list its files twice, and duplicates leak across the train/test split.
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    real = dir;
  }
  if (seen.has(real)) {
    skipped.push({ path: dir, reason: `directory already scanned as ${real} (symbolic link)` });
    return;
  }
  seen.add(real);
  if (depth > 16) {
    skipped.push({ path: dir, reason: 'directory nested too deep (symlink loop?)' });
    return;
  }
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (depth === 0) throw e;
    skipped.push({ path: dir, reason: `cannot list directory: ${(e as Error).message}` });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) {
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        skipped.push({ path: p, reason: 'broken symbolic link' });
        continue;
      }
    }
    if (isDir) walk(p, files, skipped, depth + 1, seen);
    else files.push(p);
  }
}

/** Scans one corpus directory. Throws only when the directory itself cannot be listed. */
export function scanCorpus(kind: CorpusKind, dir: string, options: ScanOptions = {}): ScanResult {
  const parse = PARSERS[kind];
  if (!parse) throw new Error(`unknown corpus kind '${kind}'`);
  const files: string[] = [];
  const skipped: Skipped[] = [];
  walk(resolve(dir), files, skipped);
  const items: Item[] = [];
  for (const path of files) {
    if (!/\.wav$/i.test(path)) {
      skipped.push({ path, reason: 'not a .wav file' });
      continue;
    }
    const r = parse(path);
    if ('reason' in r) {
      skipped.push({ path, reason: r.reason });
      continue;
    }
    const bad = options.checkHeader ? sniffWav(path) : null;
    if (bad) {
      skipped.push({ path, reason: bad });
      continue;
    }
    items.push({ path, corpus: kind, speaker: r.speaker, emotion: r.emotion, label: EMOTIONS.indexOf(r.emotion) });
  }
  return { items, skipped };
}

/** Scans several corpora into one list, in the order given. */
export function scanCorpora(specs: CorpusSpec[], options: ScanOptions = {}): ScanResult {
  const out: ScanResult = { items: [], skipped: [] };
  for (const s of specs) {
    const r = scanCorpus(s.kind, s.dir, options);
    out.items.push(...r.items);
    out.skipped.push(...r.skipped);
  }
  return out;
}

/** Parses the CLI form `--data ravdess=DIR --data tess=DIR …`; UsageError on anything wrong. */
export function parseDataSpecs(values: readonly string[]): CorpusSpec[] {
  const kinds = CORPUS_KINDS.join(', ');
  if (values.length === 0) throw new UsageError(`--data KIND=DIR is required (kinds: ${kinds})`);
  const specs: CorpusSpec[] = [];
  const seen = new Set<string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new UsageError(`--data expects KIND=DIR (kinds: ${kinds}), got '${v}'`);
    const kind = v.slice(0, eq).toLowerCase();
    const dir = resolve(v.slice(eq + 1));
    if (!(CORPUS_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(`--data: unknown corpus kind '${v.slice(0, eq)}' (kinds: ${kinds})`);
    }
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      throw new UsageError(`--data ${kind}: directory '${dir}' does not exist`);
    }
    if (!isDir) throw new UsageError(`--data ${kind}: '${dir}' is not a directory`);
    if (seen.has(dir)) throw new UsageError(`--data: '${dir}' is given twice`);
    seen.add(dir);
    specs.push({ kind: kind as CorpusKind, dir });
  }
  return specs;
}

/** Count of items per class, in EMOTIONS order. */
export function classCounts(items: readonly { label: number }[], classes = EMOTIONS.length): number[] {
  const c = new Array<number>(classes).fill(0);
  for (const it of items) c[it.label]!++;
  return c;
}

/** A human-readable account of a scan: per-corpus class counts, speakers, and every skipped file. */
export function formatScanSummary(r: ScanResult): string {
  const lines: string[] = [];
  const header = ['corpus'.padEnd(8), ...EMOTIONS.map((e) => e.slice(0, 9).padStart(9)), 'total'.padStart(7), 'speakers'.padStart(9)];
  lines.push(header.join(' '));
  const row = (name: string, items: Item[]) => {
    const c = classCounts(items);
    const speakers = new Set(items.map((i) => i.speaker)).size;
    lines.push([name.padEnd(8), ...c.map((n) => String(n).padStart(9)), String(items.length).padStart(7), String(speakers).padStart(9)].join(' '));
  };
  for (const kind of CORPUS_KINDS) {
    const items = r.items.filter((i) => i.corpus === kind);
    if (items.length) row(kind, items);
  }
  row('all', r.items);
  lines.push(`skipped: ${r.skipped.length}`);
  for (const s of r.skipped) lines.push(`  ${s.path}: ${s.reason}`);
  return lines.join('\n');
}
