// GPU timing under tinybench, shared by the kernel benchmarks: each sample is the
// GPU time of one recorded command buffer (timestamp queries where the adapter has
// them, see timeRecorded), handed to tinybench as the task's duration; tinybench
// runs the warm-up (pipeline compilation) and the iterations and reports the median.
import { Bench } from 'tinybench';
import type { Gpu } from '../src/kernels/gpu.js';
import { timeRecorded, type Recorder } from '../src/kernels/kernel.js';

export interface GpuTimingOptions {
  /** Timed iterations per task (tinybench's minimum). */
  iterations?: number;
  /** Time budget per task, ms (iterations continue until both are met). */
  time?: number;
}

/** Median GPU ms of each recording, in order. */
export async function medianGpuMs(gpu: Gpu, records: { name: string; record: (r: Recorder) => void }[], opts: GpuTimingOptions = {}): Promise<number[]> {
  const bench = new Bench({ iterations: opts.iterations ?? 10, time: opts.time ?? 0, warmupIterations: 1, warmupTime: 0 });
  for (const { name, record } of records) bench.add(name, async () => ({ overriddenDuration: await timeRecorded(gpu, record) }));
  await bench.run();
  return bench.tasks.map((t) => {
    const result = t.result;
    if (result.state !== 'completed') throw new Error(`${t.name}: benchmark ${result.state}${'error' in result ? `: ${result.error.message}` : ''}`);
    return result.latency.p50;
  });
}
