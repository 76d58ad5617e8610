// `--data KIND=DIR` for every command: the four corpora plus the built-in
// synthetic corpus (`synth=DIR`, as `ser demo` writes it).
import { resolve } from 'node:path';
import { statSync } from 'node:fs';
import { UsageError } from '../util/errors.js';
import { EMOTIONS, formatScanSummary, parseDataSpecs, scanCorpora, type Item, type Skipped } from './corpora.js';
import { scanSynthCorpus } from './synth.js';

export interface Labelled {
  path: string;
  speaker: string;
  label: number;
  emotion: string;
  corpus: string;
}

export async function scanDataArgs(values: readonly string[]): Promise<{ items: Labelled[]; skipped: Skipped[]; summary: string }> {
  const synthDirs = values.filter((v) => v.toLowerCase().startsWith('synth=')).map((v) => resolve(v.slice(6)));
  const rest = values.filter((v) => !v.toLowerCase().startsWith('synth='));
  const scan = rest.length ? scanCorpora(parseDataSpecs(rest)) : { items: [] as Item[], skipped: [] as Skipped[] };
  const items: Labelled[] = [...scan.items];
  for (const dir of synthDirs) {
    let ok = false;
    try {
      ok = statSync(dir).isDirectory();
    } catch {
      // reported below
    }
    if (!ok) throw new UsageError(`--data synth: directory '${dir}' does not exist`);
    items.push(...(await scanSynthCorpus(dir)));
  }
  if (values.length === 0) throw new UsageError('--data KIND=DIR is required (kinds: ravdess, tess, savee, emodb, synth)');
  let summary = formatScanSummary(scan);
  if (synthDirs.length) summary += `\nsynth: ${items.length - scan.items.length} clips from ${synthDirs.join(', ')}`;
  return { items, skipped: scan.skipped, summary };
}

export const CLASS_NAMES: string[] = [...EMOTIONS];
