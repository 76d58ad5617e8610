// `ser doctor`: which adapter we run on, what it offers, and whether a kernel
// computes the right answer on it.
import { createGpu, listAdapters, type Gpu } from '../kernels/gpu.js';
import { axpy } from '../kernels/axpy.js';
import { conv3dKernel } from '../kernels/conv3d.js';
import { run } from '../kernels/kernel.js';
import { axpyRef } from '../ref/axpy.js';
import { parse, str } from './args.js';

const HELP = `Usage: ser doctor [--list] [--backend NAME] [--adapter NAME] [--json]

Prints the WebGPU adapter (vendor, architecture, description, backend), the
limits and features the kernels use, and runs a self-test kernel.
Exits non-zero with a one-line reason when no usable adapter exists.

  --list           list every adapter Dawn can see, then exit
  --backend NAME   Dawn backend (vulkan, metal, d3d12, opengl); env SER_BACKEND
  --adapter NAME   adapter name as --list prints it; env SER_ADAPTER
  --json           machine-readable output`;

const SHOWN_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Runs y += 0.5·x on 100 003 elements (not a multiple of the workgroup) and compares with the reference. */
export async function selfTest(gpu: Gpu): Promise<{ ok: boolean; maxError: number; ms: number }> {
  const n = 100_003;
  const x = new Float32Array(n).map((_, i) => Math.sin(i));
  const y = new Float32Array(n).map((_, i) => Math.cos(i * 0.5));
  const t0 = performance.now();
  const xb = gpu.upload(x, 'selftest x');
  const yb = gpu.upload(y, 'selftest y');
  run(gpu, (r) => axpy(r, n, 0.5, xb, yb), 'selftest');
  const got = await gpu.readF32(yb, n);
  const ms = performance.now() - t0;
  xb.destroy();
  yb.destroy();
  const want = axpyRef(0.5, x, y);
  let maxError = 0;
  for (let i = 0; i < n; i++) maxError = Math.max(maxError, Math.abs(got[i]! - want[i]!));
  return { ok: maxError < 1e-5, maxError, ms };
}

export async function doctor(argv: string[]): Promise<number> {
  const args = parse(argv, { list: { type: 'boolean' }, backend: { type: 'string' }, adapter: { type: 'string' }, json: { type: 'boolean' } }, HELP);
  if (!args) return 0;
  const { values } = args;
  if (values.list) {
    const all = await listAdapters();
    if (values.json) console.log(JSON.stringify(all));
    else if (all.length === 0) console.log('no adapters found');
    else for (const a of all) console.log(`${a.backend.padEnd(8)} ${a.description || a.device}  (${a.vendor}, ${a.architecture})`);
    return all.length > 0 ? 0 : 1;
  }
  const gpu = await createGpu({ backend: str(values.backend), adapter: str(values.adapter) });
  const limits = Object.fromEntries(SHOWN_LIMITS.map((k) => [k, (gpu.limits as unknown as Record<string, number>)[k]]));
  const test = await selfTest(gpu);
  if (values.json) {
    console.log(JSON.stringify({ adapter: gpu.summary, limits, features: gpu.features, conv3d: conv3dKernel(gpu), selfTest: test }));
  } else {
    const s = gpu.summary;
    console.log(`adapter       ${s.description || s.device || '(unnamed)'}`);
    console.log(`vendor        ${s.vendor}`);
    console.log(`architecture  ${s.architecture}`);
    console.log(`backend       ${s.backend}${s.isFallback ? ' (fallback adapter)' : ''}`);
    console.log(`features      shader-f16 ${yn(gpu.features.f16)}, timestamp-query ${yn(gpu.features.timestamps)}, subgroups ${yn(gpu.features.subgroups)}`);
    console.log(`conv3d        ${conv3dKernel(gpu)} kernels${gpu.features.shuffle8 ? ' (8-lane subgroup shuffles probed ok)' : gpu.features.subgroups ? ' (subgroups present, but not in aligned groups of 8 lanes, or SER_SUBGROUPS=0)' : ''}`);
    for (const [k, v] of Object.entries(limits)) console.log(`  ${k.padEnd(36)} ${v}`);
    console.log(`self-test     axpy on 100003 floats: ${test.ok ? 'ok' : 'FAILED'} (max error ${test.maxError.toExponential(1)}, ${test.ms.toFixed(1)} ms)`);
  }
  gpu.destroy();
  if (!test.ok) {
    console.error(`ser doctor: self-test kernel gave wrong results (max error ${test.maxError})`);
    return 1;
  }
  return 0;
}

function yn(b: boolean): string {
  return b ? 'yes' : 'no';
}
