// The two GPU mel paths side by side on the EmoDB clips in ../shared: 'staged'
// (stft_frames → radix-2 fft_stockham → mel_project) and 'fused' (stft_mel: framing,
// radix-16 FFT and mel projection in one kernel), validated against each other and
// the float64 reference, then timed alternately in one process so that a shared,
// loaded machine slows both alike. Reports wall time and process CPU time (the
// driver's worker threads included), medians over ROUNDS.
// Run: npx tsx bench/frontend_variants.bench.ts [clips]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { getGpu } from '../src/kernels/gpu.js';
import { MelFrontend, type StftPath } from '../src/dsp/frontend.js';
import { decodeAudio } from '../src/dsp/wav.js';
import { resample } from '../src/dsp/resample.js';
import { melSpectrogramRef } from '../src/ref/melspec.js';

const ROUNDS = 5;
const DIR = join('..', 'shared', 'data', 'emodb-original');
const limit = Number(process.argv[2] ?? Infinity);
const files = readdirSync(DIR).filter((f) => f.endsWith('.wav')).sort().slice(0, limit);
const clips = files.map((f) => {
  const d = decodeAudio(readFileSync(join(DIR, f)), f);
  return d.sampleRate === 22050 ? d.samples : resample(d.samples, d.sampleRate, 22050);
});
const seconds = clips.reduce((a, c) => a + c.length, 0) / 22050;

const gpu = await getGpu();
const paths: StftPath[] = ['staged', 'fused'];
const fronts = paths.map((p) => new MelFrontend(gpu, {}, p));
const s = fronts[0]!.settings;

// Validate (and warm up) both paths against the reference on a few clips.
for (const fe of fronts) {
  const out = await fe.melBatch(clips);
  let maxDb = 0;
  for (const i of new Set([0, Math.floor(clips.length / 2), clips.length - 1])) {
    const ref = melSpectrogramRef(clips[i]!, s);
    for (let j = 0; j < ref.db.length; j++) maxDb = Math.max(maxDb, Math.abs(ref.db[j]! - out[i]!.db[j]!));
  }
  console.log(`${fe.stftPath}: max |ΔdB| vs float64 reference ${maxDb.toExponential(2)}`);
  if (maxDb > 1e-3) throw new Error(`${fe.stftPath} disagrees with the reference by ${maxDb} dB`);
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const wall = paths.map(() => [] as number[]);
const cpu = paths.map(() => [] as number[]);
const load0 = loadavg()[0]!;
for (let r = 0; r < ROUNDS; r++) {
  for (let v = 0; v < fronts.length; v++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    await fronts[v]!.melBatch(clips);
    wall[v]!.push(performance.now() - t0);
    cpu[v]!.push(cpuMs() - c0);
  }
}
const median = (x: number[]) => x.slice().sort((a, b) => a - b)[x.length >> 1]!;

const a = gpu.summary;
console.log(`adapter: ${a.description || a.device} (${a.backend}); CPU: ${cpus()[0]?.model ?? '?'} × ${cpus().length}; load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`);
console.log(`${clips.length} clips, ${seconds.toFixed(1)} s of audio; n_fft ${s.nFft}, hop ${s.hop}, ${s.nMels} mels; median of ${ROUNDS}, alternating`);
paths.forEach((p, v) => {
  const w = median(wall[v]!);
  const c = median(cpu[v]!);
  console.log(`${p.padEnd(7)} wall ${w.toFixed(0).padStart(6)} ms → ${(seconds / (w / 1000)).toFixed(0).padStart(4)}× real time   CPU ${c.toFixed(0).padStart(6)} ms → ${(seconds / (c / 1000)).toFixed(0).padStart(4)}× real time per CPU second`);
});
console.log(`fused / staged speed-up: wall ${(median(wall[0]!) / median(wall[1]!)).toFixed(2)}, CPU ${(median(cpu[0]!) / median(cpu[1]!)).toFixed(2)}`);
process.exit(0);
