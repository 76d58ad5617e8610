// Throughput of the GPU mel front end vs the float64 CPU reference and, where a
// Python with librosa is available, librosa itself, in seconds of audio per second,
// on the EmoDB clips in ../shared (decoded once beforehand), validated against each
// other before timing. All three run in the same process run, one after another.
// `ser bench --frontend DIR` runs the same measurement (frontendBench below).
//
//   npx tsx bench/frontend.bench.ts [--json] [--librosa-passes N]
//   SER_PYTHON=/path/to/python   the Python with librosa (default: python3)
//   FRONTEND_BENCH_CLIPS=40      the first 40 clips only, for a quick check
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { getGpu, type Gpu } from '../src/kernels/gpu.js';
import { MelFrontend } from '../src/dsp/frontend.js';
import { melFilterbank } from '../src/dsp/mel.js';
import { decodeAudio } from '../src/dsp/wav.js';
import { resample } from '../src/dsp/resample.js';
import { melSpectrogramRef } from '../src/ref/melspec.js';
import { hasLibrosa, librosaPython, runLibrosaPeer, type LibrosaPeerResult } from './librosa_peer.js';
import { isMain } from './op_harness.js';

/** librosa and we compute the same float32 spectrogram: anything past this is a different computation. */
const LIBROSA_DB_TOLERANCE = 0.05;

export interface FrontendBenchOptions {
  /** Folder of .wav files (EmoDB as distributed). */
  dir: string;
  /** The first this many clips (sorted by name) only. */
  clipLimit?: number;
  /** Timed librosa passes after its warm-up. */
  librosaPasses?: number;
  /** false: do not look for librosa. */
  librosa?: boolean;
  /** Progress and notes. */
  note?: (line: string) => void;
}

interface Figure {
  medianMs: number;
  realTime: number;
}

export interface FrontendBenchReport {
  machine: { cpu: string; adapter: string; loadAverage1m: { start: number; end: number } };
  corpus: { clips: number; seconds: number; sampleRate: number; nFft: number; hop: number; nMels: number };
  gpu: Figure & { path: string; maxAbsDbVsCpuReference: number };
  cpuReference: Figure;
  librosa:
    | (Figure & { passS: number[]; python: string; versions: LibrosaPeerResult['versions']; comparedClips: number[]; maxAbsDbVsGpu: number | null })
    | null;
  ratios: { gpuOverCpuReference: number; gpuOverLibrosa: number | null };
  /** Why librosa was found but not reported (null when it ran or was not found). */
  librosaError: string | null;
}

/** Decodes the clips, validates the GPU against the reference, then times GPU, reference and librosa. */
export async function frontendBench(gpu: Gpu, o: FrontendBenchOptions): Promise<FrontendBenchReport> {
  const note = o.note ?? (() => {});
  const librosaPasses = o.librosaPasses ?? 3;
  const loadStart = loadavg()[0]!;
  const files = readdirSync(o.dir).filter((f) => f.endsWith('.wav')).sort().slice(0, o.clipLimit ?? Infinity);
  if (files.length === 0) throw new Error(`no .wav files in ${o.dir}`);
  const decoded = files.map((f) => decodeAudio(readFileSync(join(o.dir, f)), f));
  // EmoDB is distributed at 16 kHz: resampled to the analysis rate here, before any timing.
  const clips = decoded.map((d) => (d.sampleRate === 22050 ? d.samples : resample(d.samples, d.sampleRate, 22050)));

  const fe = new MelFrontend(gpu);
  const s = fe.settings;
  const fb = melFilterbank(s);
  // Resampling is not timed, so the clips must already be at the analysis rate.
  if (s.sampleRate !== 22050) throw new Error(`the front end analyses at ${s.sampleRate} Hz, the clips were resampled to 22050 Hz`);
  const seconds = clips.reduce((a, c) => a + c.length, 0) / s.sampleRate;

  // Validate before timing: the GPU's dB against the reference on a few clips.
  const gpuOut = await fe.melBatch(clips);
  const checked = [...new Set([0, 100, 200, 300, clips.length - 1].filter((i) => i < clips.length))];
  let maxDb = 0;
  for (const i of checked) {
    const ref = melSpectrogramRef(clips[i]!, s, fb);
    for (let j = 0; j < ref.db.length; j++) maxDb = Math.max(maxDb, Math.abs(ref.db[j]! - gpuOut[i]!.db[j]!));
  }
  if (maxDb > 1e-3) throw new Error(`GPU and CPU disagree by ${maxDb} dB`);

  // The reference takes about a minute per pass over the corpus, so it gets its own single-iteration bench.
  const gpuBench = new Bench({ name: 'GPU', time: 0, iterations: 5, warmupIterations: 1 });
  gpuBench.add(`GPU MelFrontend.melBatch (${clips.length} clips in one call)`, async () => {
    await fe.melBatch(clips);
  });
  const cpuBench = new Bench({ name: 'CPU', time: 0, iterations: 1, warmup: false });
  cpuBench.add('CPU float64 reference (melSpectrogramRef per clip)', () => {
    for (const c of clips) melSpectrogramRef(c, s, fb);
  });
  note(`front end: GPU ×5 and the CPU reference ×1 on ${clips.length} clips (${seconds.toFixed(0)} s of audio)…`);
  await gpuBench.run();
  await cpuBench.run();

  // librosa last, in its own process, so that it never shares the CPU with our runs;
  // it validates against the GPU dB of the same clips during its warm-up pass.
  const python = librosaPython();
  let librosa: LibrosaPeerResult | null = null;
  let librosaError: string | null = null;
  if (o.librosa === false) {
    note('librosa not asked for; measuring the GPU and the CPU reference only');
  } else if (!hasLibrosa(python)) {
    note(`librosa not found: \`${python} -c "import librosa"\` failed; measuring the GPU and the CPU reference only (set SER_PYTHON=/path/to/python of an environment with librosa to add it)`);
  } else {
    try {
      const ours = new Map(checked.map((i) => [i, gpuOut[i]!] as const));
      librosa = runLibrosaPeer(python, clips, s, ours, librosaPasses);
      if (librosa.clips !== clips.length) throw new Error(`librosa peer read ${librosa.clips} clips, not ${clips.length}`);
      const d = librosa.maxAbsDbVsOurs;
      if (d === null || !(d <= LIBROSA_DB_TOLERANCE)) {
        throw new Error(`librosa and the GPU disagree by ${d} dB (tolerance ${LIBROSA_DB_TOLERANCE}): not the same computation, so its time is not reported`);
      }
    } catch (e) {
      librosaError = (e as Error).message;
      librosa = null;
    }
  }
  const loadEnd = loadavg()[0]!;

  const medianMs = (t: Bench['tasks'][number]): number => {
    const r = t.result as unknown as { latency?: { p50?: number }; median?: number };
    return r.latency?.p50 ?? r.median ?? NaN;
  };
  const rows = [...gpuBench.tasks, ...cpuBench.tasks].map((t) => ({ name: t.name, ms: medianMs(t) }));
  if (librosa) rows.push({ name: `librosa ${librosa.versions.librosa} melspectrogram + power_to_db per clip`, ms: librosa.medianS * 1000 });
  const figure = (i: number): Figure => ({ medianMs: rows[i]!.ms, realTime: seconds / (rows[i]!.ms / 1000) });
  const a = gpu.summary;
  const [g, c] = [figure(0), figure(1)];
  return {
    machine: { cpu: `${cpus()[0]?.model ?? '?'} × ${cpus().length}`, adapter: `${a.description || a.device} (${a.vendor}, ${a.architecture}, ${a.backend})`, loadAverage1m: { start: loadStart, end: loadEnd } },
    corpus: { clips: clips.length, seconds, sampleRate: s.sampleRate, nFft: s.nFft, hop: s.hop, nMels: s.nMels },
    gpu: { ...g, path: fe.stftPath, maxAbsDbVsCpuReference: maxDb },
    cpuReference: c,
    librosa: librosa && {
      ...figure(2), passS: librosa.passS, python: librosa.python, versions: librosa.versions,
      comparedClips: librosa.comparedClips, maxAbsDbVsGpu: librosa.maxAbsDbVsOurs,
    },
    ratios: { gpuOverCpuReference: g.realTime / c.realTime, gpuOverLibrosa: librosa ? g.realTime / figure(2).realTime : null },
    librosaError,
  };
}

/** The report as the text the script and `ser bench --frontend` print. */
export function formatFrontendReport(r: FrontendBenchReport): string {
  const { corpus: k, machine: m } = r;
  const lines = [
    `adapter: ${m.adapter}; CPU: ${m.cpu}; load average (1 min) ${m.loadAverage1m.start.toFixed(2)} at start, ${m.loadAverage1m.end.toFixed(2)} at end`,
    `${k.clips} clips, ${k.seconds.toFixed(1)} s of audio at ${k.sampleRate} Hz; n_fft ${k.nFft}, hop ${k.hop}, ${k.nMels} mels; GPU vs CPU max |ΔdB| ${r.gpu.maxAbsDbVsCpuReference.toExponential(2)}`,
  ];
  const rows: [string, Figure][] = [
    [`GPU MelFrontend.melBatch (${k.clips} clips in one call)`, r.gpu],
    ['CPU float64 reference (melSpectrogramRef per clip)', r.cpuReference],
  ];
  if (r.librosa) {
    const v = r.librosa.versions;
    lines.push(`librosa ${v.librosa} (numpy ${v.numpy}, scipy ${v.scipy}, Python ${v.python}) at ${r.librosa.python}, median of ${r.librosa.passS.length} passes after a warm-up; librosa vs GPU max |ΔdB| ${r.librosa.maxAbsDbVsGpu!.toExponential(2)} on clips ${r.librosa.comparedClips.join(', ')}`);
    rows.push([`librosa ${v.librosa} melspectrogram + power_to_db per clip`, r.librosa]);
  }
  for (const [name, f] of rows) lines.push(`${name.padEnd(60)} median ${f.medianMs.toFixed(1)} ms  →  ${f.realTime.toFixed(0)}× real time`);
  lines.push(`GPU / CPU throughput ratio: ${r.ratios.gpuOverCpuReference.toFixed(2)}`);
  if (r.ratios.gpuOverLibrosa !== null) lines.push(`GPU / librosa throughput ratio: ${r.ratios.gpuOverLibrosa.toFixed(2)}`);
  if (r.librosaError) lines.push(`librosa peer failed: ${r.librosaError}`);
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const { values: opts } = parseArgs({ options: { json: { type: 'boolean', default: false }, 'librosa-passes': { type: 'string', default: '3' } } });
  const librosaPasses = Number(opts['librosa-passes']);
  if (!(Number.isInteger(librosaPasses) && librosaPasses >= 1)) throw new RangeError(`--librosa-passes must be an integer >= 1, got ${opts['librosa-passes']}`);
  const clipLimit = Number(process.env.FRONTEND_BENCH_CLIPS || Infinity);
  if (!(clipLimit >= 1)) throw new RangeError(`FRONTEND_BENCH_CLIPS must be a number >= 1, got ${process.env.FRONTEND_BENCH_CLIPS}`);
  // In --json mode stdout carries the JSON object alone; notes go to stderr.
  const note = opts.json ? console.error : console.log;
  const r = await frontendBench(await getGpu(), { dir: join('..', 'shared', 'data', 'emodb-original'), clipLimit, librosaPasses, note });
  if (r.librosaError) console.error(`librosa peer failed: ${r.librosaError}`);
  console.log(opts.json ? JSON.stringify(r) : formatFrontendReport(r));
  process.exit(r.librosaError ? 1 : 0);
}
