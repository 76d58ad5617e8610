// A corpus as users really have them: good files among truncated, empty, random,
// lying and unsupported ones, AIFF named .wav, strays with wrong names, broken and
// looping symbolic links, a file deleted between scan and decode. The scan
// (scanDataArgs) and the feature pass (featuresOfFiles) must keep every good file,
// list every bad one with its reason, and never throw.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { scanDataArgs } from '../src/data/sources.js';
import { featuresOfFiles } from '../src/train/prepare.js';
import { DEFAULT_FRONTEND } from '../src/dsp/frontend.js';
import { aiff16, brokenAudio, testSignal, wav16 } from './util/audio-files.js';

const gpu = await getGpu();
const root = mkdtempSync(join(tmpdir(), 'ser-scan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(rel: string, bytes: Uint8Array | string): string {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

const bad = brokenAudio();
const voice = testSignal(1, 24414, 3);

// Good files (decoded and kept).
const good = [
  put('tess/OAF_angry/OAF_back_angry.wav', wav16(voice, 24414)),
  put('tess/OAF_Fear/OAF_food_fear.wav', wav16(testSignal(1, 96000, 4), 96000)), // 96 kHz, resampled
  put('tess/YAF_fear/YAF_neat_fear.wav', aiff16(voice, 24414)), // AIFF named .wav: decoded as AIFF
  put('tess/YAF_fear/YAF_numb_fear.wav', wav16(voice, 24414)), // the same samples as WAV
  put('emodb/03a01Wa.wav', wav16(testSignal(1.5, 16000, 5), 16000, 2)), // stereo, downmixed
  put('ravdess/Actor_01/03-01-05-01-01-01-01.wav', wav16(testSignal(1, 48000, 6), 48000)),
];
// Labelled by name, then refused by the decoder with a reason.
const undecodable: Record<string, RegExp> = {
  [put('tess/OAF_angry/OAF_bath_angry.wav', bad.truncated!.bytes)]: bad.truncated!.reason,
  [put('tess/YAF_happy/YAF_bite_happy.wav', bad.empty!.bytes)]: bad.empty!.reason,
  [put('tess/YAF_happy/YAF_cab_happy.wav', bad.random!.bytes)]: bad.random!.reason,
  [put('tess/YAF_sad/YAF_dog_sad.wav', bad.claims4GB!.bytes)]: bad.claims4GB!.reason,
  [put('tess/YAF_sad/YAF_kite_sad.wav', bad.zeroSamples!.bytes)]: bad.zeroSamples!.reason,
  [put('ravdess/Actor_01/03-01-04-01-01-01-01.wav', bad.mp3!.bytes)]: bad.mp3!.reason,
};
const vanishing = put('ravdess/Actor_01/03-01-03-01-01-01-01.wav', wav16(voice, 24414));
// Refused by the scan from their names or nature.
const strays: Record<string, RegExp> = {
  [put('tess/YAF_sad/Thumbs.db', 'x')]: /not a \.wav file/,
  [put('tess/YAF_sad/readme.txt', 'x')]: /not a \.wav file/,
  [put('emodb/03a01Lb.wav', wav16(voice, 24414))]: /boredom/,
  [put('emodb/03a01Xa.wav', wav16(voice, 24414))]: /unknown emotion letter X/,
  [put('emodb/README.wav', 'x')]: /not SSTTTEV\.wav/,
  [put('ravdess/Actor_01/03-02-05-01-01-01-01.wav', wav16(voice, 24414))]: /vocal channel 02/,
};
const brokenLink = join(root, 'tess/YAF_sad/YAF_gone_sad.wav');
symlinkSync(join(root, 'nowhere.wav'), brokenLink);
strays[brokenLink] = /broken symbolic link/;
const loop = join(root, 'tess/OAF_angry/again');
symlinkSync('..', loop);
strays[loop] = /already scanned/;

describe('dataset scan over a corpus of mixed quality', () => {
  it('skips every bad file with its reason and keeps every good one', async () => {
    const scan = await scanDataArgs([`tess=${join(root, 'tess')}`, `emodb=${join(root, 'emodb')}`, `ravdess=${join(root, 'ravdess')}`]);
    const scanReasons = new Map(scan.skipped.map((s) => [s.path, s.reason]));
    for (const s of scan.skipped) console.log(`scan skipped ${basename(s.path)}: ${s.reason}`);
    for (const [path, reason] of Object.entries(strays)) expect(scanReasons.get(path), path).toMatch(reason);
    expect(scan.skipped.length).toBe(Object.keys(strays).length);
    expect(scan.summary).toContain(`skipped: ${scan.skipped.length}`);
    const labelled = scan.items.map((i) => i.path).sort();
    expect(labelled).toEqual([...good, ...Object.keys(undecodable), vanishing].sort());

    unlinkSync(vanishing); // deleted between the scan and the decode
    const feats = await featuresOfFiles(gpu, scan.items, { frontend: DEFAULT_FRONTEND, seed: 0, augmentCopies: 0, oversample: false, cacheDir: null, quiet: true }, false, 'features');
    for (const s of feats.skipped) console.log(`decode skipped ${basename(s.path)}: ${s.reason}`);
    const reasons = new Map(feats.skipped.map((s) => [s.path, s.reason]));
    for (const [path, reason] of Object.entries(undecodable)) expect(reasons.get(path), path).toMatch(reason);
    expect(reasons.get(vanishing)).toMatch(/ENOENT/);
    expect(feats.skipped.length).toBe(Object.keys(undecodable).length + 1);
    expect(feats.kept.map((f) => f.path).sort()).toEqual([...good].sort());

    const size = DEFAULT_FRONTEND.timesteps * DEFAULT_FRONTEND.nMels * DEFAULT_FRONTEND.framesPerStep;
    for (const f of feats.features) {
      expect(f.length).toBe(size);
      expect(f.every((x) => Number.isFinite(x) && x >= 0 && x <= 1)).toBe(true);
    }
    // The AIFF file decodes to the very samples of its WAV twin.
    const at = (p: string) => feats.features[feats.kept.findIndex((f) => f.path === p)]!;
    const aiff = at(good[2]!);
    const twin = at(good[3]!);
    let maxDiff = 0;
    aiff.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - twin[i]!))));
    console.log(`AIFF vs WAV twin: max |diff| of features ${maxDiff}`);
    expect(maxDiff).toBe(0);
  });

  it('three thousand files, two thirds junk: listed and skipped in bounded time', async () => {
    const dir = join(root, 'many');
    for (let i = 0; i < 1000; i++) {
      const speaker = String(3 + (i % 8)).padStart(2, '0');
      const text = `a${String(i % 100).padStart(2, '0')}`;
      const version = String.fromCharCode(97 + Math.floor(i / 100));
      put(`many/${speaker}${text}W${version}.wav`, ''); // good name, empty file
      put(`many/junk${i}.wav`, 'x');
      put(`many/notes${i}.txt`, 'x');
    }
    const t0 = performance.now();
    const scan = await scanDataArgs([`emodb=${dir}`]);
    const feats = await featuresOfFiles(gpu, scan.items, { frontend: DEFAULT_FRONTEND, seed: 0, augmentCopies: 0, oversample: false, cacheDir: null, quiet: true }, false, 'features');
    const seconds = (performance.now() - t0) / 1000;
    console.log(`3000 files: ${scan.items.length} labelled, ${scan.skipped.length} skipped by the scan, ${feats.skipped.length} by the decoder, in ${seconds.toFixed(2)} s`);
    expect(scan.items.length).toBe(1000);
    expect(scan.skipped.length).toBe(2000);
    expect(feats.kept.length).toBe(0);
    expect(feats.skipped.every((s) => /empty file/.test(s.reason))).toBe(true);
    expect(feats.skipped.length).toBe(1000);
    expect(seconds).toBeLessThan(20);
  });
});
