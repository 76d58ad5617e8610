// The librosa peer of bench/frontend.bench.ts, driven from TypeScript: finds a
// Python with librosa, hands it the clips the bench already decoded (one temporary
// binary file, deleted afterwards) and our GPU dB of a few of them, runs
// bench/librosa_peer.py (the same melspectrogram + power_to_db + min-max work per
// clip, same settings) and returns its timings and its agreement with us.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FrontendSettings } from '../src/dsp/frontend.js';

const SCRIPT = fileURLToPath(new URL('./librosa_peer.py', import.meta.url));

export interface LibrosaPeerResult {
  python: string;
  clips: number;
  /** Wall seconds of each timed pass over all clips. */
  passS: number[];
  medianS: number;
  versions: { librosa: string; numpy: string; scipy: string; python: string };
  comparedClips: number[];
  /** max |ΔdB| between librosa and the dB we passed in, above the top_db floor; null if none passed. */
  maxAbsDbVsOurs: number | null;
}

/** The Python to use: $SER_PYTHON if set, else `python3`. */
export function librosaPython(): string {
  return process.env.SER_PYTHON || 'python3';
}

/** Whether `python` can import librosa (false also when there is no such program). */
export function hasLibrosa(python: string): boolean {
  const r = spawnSync(python, ['-c', 'import librosa'], { stdio: 'ignore', timeout: 120_000 });
  return r.status === 0;
}

/** Writes little-endian uint32s then the float32 arrays' bytes to an open file. */
function writeRecords(fd: number, header: number[], arrays: Float32Array[]): void {
  writeSync(fd, new Uint8Array(Uint32Array.from(header).buffer));
  for (const a of arrays) writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** Writes `magic` then the records, as bench/librosa_peer.py documents its two formats. */
function writeFile(path: string, magic: 'SERC' | 'SERD', write: (fd: number) => void): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, magic);
    write(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs the librosa peer with `python` on `clips`, timed over `passes` passes after
 * one warm-up; `ours` maps clip indices to our dB ([nMels][frames]) for it to compare
 * against. Throws if the script fails or prints no result.
 */
export function runLibrosaPeer(
  python: string,
  clips: Float32Array[],
  settings: FrontendSettings,
  ours: Map<number, { frames: number; db: Float32Array }>,
  passes = 3,
): LibrosaPeerResult {
  // Typed arrays are written in the machine's byte order; the files are little-endian.
  if (endianness() !== 'LE') throw new Error('the librosa peer files are little-endian; this machine is not');
  const s = settings;
  const dir = mkdtempSync(join(tmpdir(), 'ser-librosa-'));
  try {
    const clipPath = join(dir, 'clips.bin');
    const oursPath = join(dir, 'ours.bin');
    writeFile(clipPath, 'SERC', (fd) => writeRecords(fd, [clips.length, ...clips.map((c) => c.length)], clips));
    writeFile(oursPath, 'SERD', (fd) => {
      writeRecords(fd, [ours.size], []);
      for (const [index, m] of ours) writeRecords(fd, [index, s.nMels, m.frames], [m.db]);
    });
    const args = [
      SCRIPT, '--clips', clipPath, '--ours', oursPath, '--passes', String(passes),
      '--sr', String(s.sampleRate), '--n-fft', String(s.nFft), '--hop', String(s.hop), '--n-mels', String(s.nMels),
      '--fmin', String(s.fmin), '--fmax', String(s.fmax ?? s.sampleRate / 2),
      '--scale', s.melScale, '--norm', s.melNorm, '--top-db', String(s.topDb), '--amin', String(s.amin),
    ];
    // stderr passes through: librosa's warnings and a traceback belong in front of the user.
    const r = spawnSync(python, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
    if (r.error) throw new Error(`librosa peer: ${python}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`librosa peer: ${python} ${SCRIPT} exited with ${r.status ?? r.signal}`);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let out: Record<string, unknown>;
    try {
      out = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`librosa peer printed no JSON result (last line: ${JSON.stringify(line.slice(0, 200))})`);
    }
    return {
      python,
      clips: out.clips as number,
      passS: out.pass_s as number[],
      medianS: out.median_s as number,
      versions: out.versions as LibrosaPeerResult['versions'],
      comparedClips: out.compared_clips as number[],
      maxAbsDbVsOurs: out.max_abs_db_vs_ours as number | null,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
