// Throughput of the GPU mel front end vs the float64 CPU reference, in seconds
// of audio per second, on the EmoDB clips in ../shared (decoded once beforehand),
// validated against each other before timing. Run: npx tsx bench/frontend.bench.ts
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import { getGpu } from '../src/kernels/gpu.js';
import { MelFrontend } from '../src/dsp/frontend.js';
import { melFilterbank } from '../src/dsp/mel.js';
import { decodeAudio } from '../src/dsp/wav.js';
import { melSpectrogramRef } from '../src/ref/melspec.js';

const DIR = join('..', 'shared', 'data', 'emodb');
const files = readdirSync(DIR).filter((f) => f.endsWith('.wav')).sort();
const clips = files.map((f) => decodeAudio(readFileSync(join(DIR, f)), f).samples);
const seconds = clips.reduce((a, c) => a + c.length, 0) / 22050;

const gpu = await getGpu();
const fe = new MelFrontend(gpu);
const s = fe.settings;
const fb = melFilterbank({ ...s, scale: s.melScale, norm: s.melNorm });

// Validate before timing: the GPU's dB against the reference on a few clips.
const gpuOut = await fe.melBatch(clips);
let maxDb = 0;
for (const i of [0, 100, 200, 300, clips.length - 1]) {
  const ref = melSpectrogramRef(clips[i]!, { ...s, scale: s.melScale, norm: s.melNorm }, fb);
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
  for (const c of clips) melSpectrogramRef(c, { ...s, scale: s.melScale, norm: s.melNorm }, fb);
});
await gpuBench.run();
await cpuBench.run();

const a = gpu.summary;
console.log(`adapter: ${a.description || a.device} (${a.vendor}, ${a.architecture}, ${a.backend}); CPU: ${cpus()[0]?.model ?? '?'} × ${cpus().length}`);
console.log(`${clips.length} clips, ${seconds.toFixed(1)} s of audio at 22050 Hz; n_fft ${s.nFft}, hop ${s.hop}, ${s.nMels} mels; GPU vs CPU max |ΔdB| ${maxDb.toExponential(2)}`);
const rates: number[] = [];
for (const t of [...gpuBench.tasks, ...cpuBench.tasks]) {
  const r = t.result as unknown as { latency?: { p50?: number }; median?: number };
  const ms = r.latency?.p50 ?? r.median ?? NaN;
  const rate = seconds / (ms / 1000);
  rates.push(rate);
  console.log(`${t.name.padEnd(60)} median ${ms.toFixed(1)} ms  →  ${rate.toFixed(0)}× real time`);
}
console.log(`GPU / CPU throughput ratio: ${(rates[0]! / rates[1]!).toFixed(2)}`);
process.exit(0);
