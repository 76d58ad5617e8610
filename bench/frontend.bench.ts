// Throughput of the GPU mel front end vs the float64 CPU reference and, where a
// Python with librosa is available, librosa itself, in seconds of audio per second,
// on the EmoDB clips in ../shared (decoded once beforehand), validated against each
// other before timing. All three run in the same process run, one after another.
//
//   npx tsx bench/frontend.bench.ts [--json] [--librosa-passes N]
//   SER_PYTHON=/path/to/python   the Python with librosa (default: python3)
//   FRONTEND_BENCH_CLIPS=40      the first 40 clips only, for a quick check
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { getGpu } from '../src/kernels/gpu.js';
import { MelFrontend } from '../src/dsp/frontend.js';
import { melFilterbank } from '../src/dsp/mel.js';
import { decodeAudio } from '../src/dsp/wav.js';
import { resample } from '../src/dsp/resample.js';
import { melSpectrogramRef } from '../src/ref/melspec.js';
import { hasLibrosa, librosaPython, runLibrosaPeer, type LibrosaPeerResult } from './librosa_peer.js';

/** librosa and we compute the same float32 spectrogram: anything past this is a different computation. */
const LIBROSA_DB_TOLERANCE = 0.05;

const { values: opts } = parseArgs({ options: { json: { type: 'boolean', default: false }, 'librosa-passes': { type: 'string', default: '3' } } });
const librosaPasses = Number(opts['librosa-passes']);
if (!(Number.isInteger(librosaPasses) && librosaPasses >= 1)) throw new RangeError(`--librosa-passes must be an integer >= 1, got ${opts['librosa-passes']}`);
const clipLimit = Number(process.env.FRONTEND_BENCH_CLIPS || Infinity);
if (!(clipLimit >= 1)) throw new RangeError(`FRONTEND_BENCH_CLIPS must be a number >= 1, got ${process.env.FRONTEND_BENCH_CLIPS}`);
// In --json mode stdout carries the JSON object alone; notes go to stderr.
const note = opts.json ? console.error : console.log;
const loadStart = loadavg()[0]!;

const DIR = join('..', 'shared', 'data', 'emodb-original');
const files = readdirSync(DIR).filter((f) => f.endsWith('.wav')).sort().slice(0, clipLimit);
const decoded = files.map((f) => decodeAudio(readFileSync(join(DIR, f)), f));
// EmoDB is distributed at 16 kHz: resampled to the analysis rate here, before any timing.
const clips = decoded.map((d) => (d.sampleRate === 22050 ? d.samples : resample(d.samples, d.sampleRate, 22050)));

const gpu = await getGpu();
const fe = new MelFrontend(gpu);
const s = fe.settings;
const fb = melFilterbank(s);
// No resampling here: it would be timed by nobody, so the clips must already be at the analysis rate.
const offRate = decoded.find((d) => d.sampleRate !== s.sampleRate);
if (offRate) throw new Error(`a clip is at ${offRate.sampleRate} Hz, not the front end's ${s.sampleRate} Hz`);
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
await gpuBench.run();
await cpuBench.run();

// librosa last, in its own process, so that it never shares the CPU with our runs;
// it validates against the GPU dB of the same clips during its warm-up pass.
const python = librosaPython();
let librosa: LibrosaPeerResult | null = null;
let failed = false;
if (!hasLibrosa(python)) {
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
    console.error(`librosa peer failed: ${(e as Error).message}`);
    librosa = null;
    failed = true;
  }
}
const loadEnd = loadavg()[0]!;

const medianMs = (t: Bench['tasks'][number]): number => {
  const r = t.result as unknown as { latency?: { p50?: number }; median?: number };
  return r.latency?.p50 ?? r.median ?? NaN;
};
const rows = [...gpuBench.tasks, ...cpuBench.tasks].map((t) => ({ name: t.name, ms: medianMs(t) }));
if (librosa) {
  rows.push({ name: `librosa ${librosa.versions.librosa} melspectrogram + power_to_db per clip`, ms: librosa.medianS * 1000 });
}
const rates = rows.map((r) => seconds / (r.ms / 1000));
const [gpuRate, cpuRate, librosaRate] = rates as [number, number, number | undefined];

const a = gpu.summary;
const adapter = `${a.description || a.device} (${a.vendor}, ${a.architecture}, ${a.backend})`;
const cpu = `${cpus()[0]?.model ?? '?'} × ${cpus().length}`;
if (opts.json) {
  const figure = (i: number) => ({ medianMs: rows[i]!.ms, realTime: rates[i]! });
  console.log(JSON.stringify({
    machine: { cpu, adapter, loadAverage1m: { start: loadStart, end: loadEnd } },
    corpus: { clips: clips.length, seconds, sampleRate: s.sampleRate, nFft: s.nFft, hop: s.hop, nMels: s.nMels },
    gpu: { ...figure(0), path: fe.stftPath, maxAbsDbVsCpuReference: maxDb },
    cpuReference: figure(1),
    librosa: librosa && {
      ...figure(2), passS: librosa.passS, python: librosa.python, versions: librosa.versions,
      comparedClips: librosa.comparedClips, maxAbsDbVsGpu: librosa.maxAbsDbVsOurs,
    },
    ratios: { gpuOverCpuReference: gpuRate / cpuRate, gpuOverLibrosa: librosaRate === undefined ? null : gpuRate / librosaRate },
  }));
} else {
  console.log(`adapter: ${adapter}; CPU: ${cpu}; load average (1 min) ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end`);
  console.log(`${clips.length} clips, ${seconds.toFixed(1)} s of audio at ${s.sampleRate} Hz; n_fft ${s.nFft}, hop ${s.hop}, ${s.nMels} mels; GPU vs CPU max |ΔdB| ${maxDb.toExponential(2)}`);
  if (librosa) {
    const v = librosa.versions;
    console.log(`librosa ${v.librosa} (numpy ${v.numpy}, scipy ${v.scipy}, Python ${v.python}) at ${librosa.python}, median of ${librosa.passS.length} passes after a warm-up; librosa vs GPU max |ΔdB| ${librosa.maxAbsDbVsOurs!.toExponential(2)} above the −${s.topDb} dB floor on clips ${librosa.comparedClips.join(', ')}`);
  }
  rows.forEach((r, i) => console.log(`${r.name.padEnd(60)} median ${r.ms.toFixed(1)} ms  →  ${rates[i]!.toFixed(0)}× real time`));
  console.log(`GPU / CPU throughput ratio: ${(gpuRate / cpuRate).toFixed(2)}`);
  if (librosaRate !== undefined) console.log(`GPU / librosa throughput ratio: ${(gpuRate / librosaRate).toFixed(2)}`);
}
process.exit(failed ? 1 : 0);
