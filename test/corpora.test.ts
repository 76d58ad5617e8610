import { describe, expect, it, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { EMOTIONS, classCounts, formatScanSummary, parseDataSpecs, scanCorpora, scanCorpus, type ScanResult } from '../src/data/corpora.js';
import { UsageError } from '../src/cli/args.js';

const SHARED = join(process.cwd(), '..', 'shared', 'data');
const root = mkdtempSync(join(tmpdir(), 'ser-corpora-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tree of empty files: scanning labels by name only, so content does not matter. */
function tree(name: string, files: string[]): string {
  const dir = join(root, name);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  return dir;
}

/** rel path → "speaker emotion", and rel path → reason, for compact expectations. */
function table(r: ScanResult, dir: string) {
  const items = Object.fromEntries(r.items.map((i) => [relative(dir, i.path), `${i.speaker} ${i.emotion}`]));
  const skipped = Object.fromEntries(r.skipped.map((s) => [relative(dir, s.path), s.reason]));
  return { items, skipped };
}

describe('corpus naming schemes (generated trees)', () => {
  it('RAVDESS: speech audio-only only, calm merged into neutral, actor from the name', () => {
    const dir = tree('ravdess', [
      'Actor_01/03-01-01-01-01-01-01.wav',
      'Actor_01/03-01-02-02-01-02-01.wav',
      'Actor_01/03-01-08-01-02-02-01.wav',
      'Actor_01/01-01-03-01-01-01-01.wav',
      'Actor_01/03-02-03-01-01-01-01.wav',
      'Actor_01/03-01-09-01-01-01-01.wav',
      'Actor_12/03-01-05-02-02-02-12.WAV',
      'Actor_12/notes.txt',
      'Actor_12/garbage.wav',
    ]);
    const t = table(scanCorpus('ravdess', dir), dir);
    expect(t.items).toEqual({
      'Actor_01/03-01-01-01-01-01-01.wav': 'ravdess:01 neutral',
      'Actor_01/03-01-02-02-01-02-01.wav': 'ravdess:01 neutral',
      'Actor_01/03-01-08-01-02-02-01.wav': 'ravdess:01 surprised',
      'Actor_12/03-01-05-02-02-02-12.WAV': 'ravdess:12 angry',
    });
    expect(t.skipped).toEqual({
      'Actor_01/01-01-03-01-01-01-01.wav': 'modality 01 is not 03 (audio-only)',
      'Actor_01/03-02-03-01-01-01-01.wav': 'vocal channel 02 is not 01 (speech)',
      'Actor_01/03-01-09-01-01-01-01.wav': 'unknown emotion code 09',
      'Actor_12/notes.txt': 'not a .wav file',
      'Actor_12/garbage.wav': 'name is not MM-VV-EE-II-SS-RR-AA.wav',
    });
  });

  it('TESS: emotion from the file name, folder as fallback, inconsistent folder case', () => {
    const dir = tree('tess', [
      'OAF_Fear/OAF_back_fear.wav',
      'OAF_Pleasant_surprise/OAF_bath_ps.wav',
      'YAF_pleasant_surprised/YAF_bean_pleasant_surprised.wav',
      'YAF_pleasant_surprised/YAF_bite_pleasant_surprise.wav',
      'yaf_Sad/YAF_sad.wav',
      'YAF_neutral/take1.wav',
      'OAF_happy/OAF_dog_disgust.wav',
      'OAF_boredom/OAF_x_bored.wav',
    ]);
    const t = table(scanCorpus('tess', dir), dir);
    expect(t.items).toEqual({
      'OAF_Fear/OAF_back_fear.wav': 'tess:OAF fearful',
      'OAF_Pleasant_surprise/OAF_bath_ps.wav': 'tess:OAF surprised',
      'YAF_pleasant_surprised/YAF_bean_pleasant_surprised.wav': 'tess:YAF surprised',
      'YAF_pleasant_surprised/YAF_bite_pleasant_surprise.wav': 'tess:YAF surprised',
      'yaf_Sad/YAF_sad.wav': 'tess:YAF sad',
      'YAF_neutral/take1.wav': 'tess:YAF neutral',
      // The file name wins over the folder.
      'OAF_happy/OAF_dog_disgust.wav': 'tess:OAF disgust',
    });
    expect(Object.keys(t.skipped)).toEqual(['OAF_boredom/OAF_x_bored.wav']);
  });

  it('SAVEE: flat SS_cNN.wav and nested SS/cNN.wav, two-letter codes sa/su', () => {
    const dir = tree('savee', ['DC_a01.wav', 'DC_sa02.wav', 'DC_su03.wav', 'JE_n10.wav', 'KL/h05.wav', 'KL/f01.wav', 'DC_x01.wav', 'KL/zz.wav', 'deep/er/n01.wav']);
    const t = table(scanCorpus('savee', dir), dir);
    expect(t.items).toEqual({
      'DC_a01.wav': 'savee:DC angry',
      'DC_sa02.wav': 'savee:DC sad',
      'DC_su03.wav': 'savee:DC surprised',
      'JE_n10.wav': 'savee:JE neutral',
      'KL/h05.wav': 'savee:KL happy',
      'KL/f01.wav': 'savee:KL fearful',
      'deep/er/n01.wav': 'savee:ER neutral',
    });
    expect(t.skipped).toEqual({ 'DC_x01.wav': "unknown emotion code 'x'", 'KL/zz.wav': 'name is not SS_cNN.wav or SS/cNN.wav' });
  });

  it('EmoDB: wav/ subfolder or flat, boredom dropped with a reason', () => {
    const dir = tree('emodb', ['wav/03a01Fa.wav', 'wav/16b10Lb.wav', '08a02Wc.wav', '11a04Ec.wav', '12a05Xa.wav', '1a01Fa.wav']);
    const t = table(scanCorpus('emodb', dir), dir);
    expect(t.items).toEqual({ 'wav/03a01Fa.wav': 'emodb:03 happy', '08a02Wc.wav': 'emodb:08 angry', '11a04Ec.wav': 'emodb:11 disgust' });
    expect(t.skipped).toEqual({
      'wav/16b10Lb.wav': 'boredom (L) is not one of the 7 classes',
      '12a05Xa.wav': 'unknown emotion letter X',
      '1a01Fa.wav': 'name is not SSTTTEV.wav',
    });
  });

  it('labels index EMOTIONS, and checkHeader skips files that are not RIFF/WAVE', () => {
    const r = scanCorpus('emodb', join(root, 'emodb'));
    for (const it of r.items) expect(EMOTIONS[it.label]).toBe(it.emotion);
    const sniffed = scanCorpus('emodb', join(root, 'emodb'), { checkHeader: true });
    expect(sniffed.items).toHaveLength(0);
    expect(sniffed.skipped.filter((s) => s.reason === 'empty file')).toHaveLength(3);
  });
});

describe('parseDataSpecs', () => {
  it('parses KIND=DIR and rejects unknown kinds, missing dirs, files, duplicates and bad syntax', () => {
    const specs = parseDataSpecs([`emodb=${join(root, 'emodb')}`, `TESS=${join(root, 'tess')}`]);
    expect(specs.map((s) => s.kind)).toEqual(['emodb', 'tess']);
    const bad: [string[], RegExp][] = [
      [[], /required/],
      [['emodb'], /expects KIND=DIR/],
      [['=x'], /expects KIND=DIR/],
      [[`iemocap=${root}`], /unknown corpus kind 'iemocap' \(kinds: ravdess, tess, savee, emodb\)/],
      [[`emodb=${join(root, 'nope')}`], /does not exist/],
      [[`savee=${join(root, 'savee', 'DC_a01.wav')}`], /is not a directory/],
      [[`emodb=${root}`, `tess=${root}`], /given twice/],
    ];
    for (const [args, msg] of bad) {
      expect(() => parseDataSpecs(args), args.join(' ')).toThrow(UsageError);
      expect(() => parseDataSpecs(args), args.join(' ')).toThrow(msg);
    }
  });
});

describe('real corpora in ../shared/data', () => {
  const counts = (r: ScanResult) => Object.fromEntries(EMOTIONS.map((e, i) => [e, classCounts(r.items)[i]]));

  it('EmoDB: 408 files, 58 boredom dropped, 8 speakers', () => {
    const r = scanCorpus('emodb', join(SHARED, 'emodb-original'), { checkHeader: true });
    expect(r.items.length + r.skipped.length).toBe(408);
    expect(r.skipped).toHaveLength(58);
    expect(new Set(r.skipped.map((s) => s.reason))).toEqual(new Set(['boredom (L) is not one of the 7 classes']));
    expect(counts(r)).toEqual({ neutral: 63, happy: 54, sad: 49, angry: 100, fearful: 54, disgust: 30, surprised: 0 });
    expect([...new Set(r.items.map((i) => i.speaker))].sort()).toEqual(['03', '08', '09', '10', '11', '12', '13', '14'].map((s) => `emodb:${s}`));
  });

  it('RAVDESS actor 01: 60 speech files, calm counted as neutral', () => {
    const r = scanCorpus('ravdess', join(SHARED, 'ravdess-sample'), { checkHeader: true });
    expect(r.skipped).toEqual([]);
    expect(counts(r)).toEqual({ neutral: 12, happy: 8, sad: 8, angry: 8, fearful: 8, disgust: 8, surprised: 8 });
    expect(new Set(r.items.map((i) => i.speaker))).toEqual(new Set(['ravdess:01']));
  });

  it('TESS sample: 71 files in 14 folders; the two AIFF files are listed when headers are checked', () => {
    const r = scanCorpus('tess', join(SHARED, 'tess-sample'));
    expect(r.skipped).toEqual([]);
    expect(counts(r)).toEqual({ neutral: 8, happy: 10, sad: 10, angry: 11, fearful: 12, disgust: 10, surprised: 10 });
    expect(new Set(r.items.map((i) => i.speaker))).toEqual(new Set(['tess:OAF', 'tess:YAF']));
    const sniffed = scanCorpus('tess', join(SHARED, 'tess-sample'), { checkHeader: true });
    expect(sniffed.items).toHaveLength(69);
    expect(sniffed.skipped.map((s) => [relative(join(SHARED, 'tess-sample'), s.path), s.reason])).toEqual([
      ['YAF_angry/YAF_germ_angry.wav', 'AIFF file named .wav'],
      ['YAF_fear/YAF_neat_fear.wav', 'AIFF file named .wav'],
    ]);
  });

  it('SAVEE sample: 56 files of speaker DC', () => {
    const r = scanCorpus('savee', join(SHARED, 'savee-sample'), { checkHeader: true });
    expect(r.skipped).toEqual([]);
    expect(counts(r)).toEqual({ neutral: 14, happy: 7, sad: 7, angry: 7, fearful: 7, disgust: 7, surprised: 7 });
    expect(new Set(r.items.map((i) => i.speaker))).toEqual(new Set(['savee:DC']));
  });

  it('scanCorpora combines all four; the summary lists every skipped file', () => {
    const specs = parseDataSpecs(['ravdess', 'tess', 'savee', 'emodb'].map((k) => `${k}=${join(SHARED, k === 'emodb' ? 'emodb-original' : `${k}-sample`)}`));
    const r = scanCorpora(specs);
    expect(r.items).toHaveLength(60 + 71 + 56 + 350);
    expect(r.skipped).toHaveLength(58);
    const text = formatScanSummary(r);
    console.log(text.split('\n').slice(0, 7).join('\n'));
    expect(text).toMatch(/^all\s+97\s+79\s+74\s+126\s+81\s+55\s+25\s+537\s+12$/m);
    expect(text).toContain('skipped: 58');
    expect(text).toContain('emodb-original/14b10Lb.wav: boredom (L) is not one of the 7 classes');
  });
});
