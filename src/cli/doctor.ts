// `ser doctor`: which adapter we run on, what it offers, and whether a kernel
// computes the right answer on it; `--kernels`: every op against its float64
// reference (kernel-check.ts); `--list`: every adapter and Vulkan driver.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGpu, listAdapters, type AdapterSummary, type Gpu } from '../kernels/gpu.js';
import { ICD_ENV, icdOverride, vulkanIcds, type IcdManifest } from '../kernels/vulkan-icd.js';
import { axpy } from '../kernels/axpy.js';
import { conv3dKernel } from '../kernels/conv3d.js';
import { gpuWaitThrottled } from '../kernels/gpu-wait.js';
import { run } from '../kernels/kernel.js';
import { axpyRef } from '../ref/axpy.js';
import { parseCommand, UsageError, type CommandDef, type OptionDef } from './args.js';
import { BUNDLED } from '../util/bundle.js';
import { checkKernels, formatKernelCheck, formatOpResult, KERNEL_CHECK_HEADER, type KernelCheckReport } from './kernel-check.js';
import { opChecks } from './kernel-check-ops.js';

const DOCTOR = {
  usage: 'Usage: ser doctor [--kernels] [--list [--this-process]] [--backend NAME] [--adapter NAME] [--json]',
  about: `Prints the WebGPU adapter (vendor, architecture, description, backend), the
limits and features the kernels use, and runs a self-test kernel.
Exits non-zero with a one-line reason when no usable adapter exists, or when a
checked kernel gives wrong results.

The Vulkan loader picks a process's drivers when it starts: those installed in
its search directories, or the manifests named by ${ICD_ENV} (e.g.
${ICD_ENV}=/usr/lib/chromium/vk_swiftshader_icd.json ser doctor runs on
SwiftShader).`,
  options: {
    list: {
      kind: 'flag',
      help: `list the adapters Dawn sees in this process, then every\ninstalled Vulkan driver (ICD manifest), each probed in a child\nprocess with ${ICD_ENV} set to it; then exit`,
    },
    kernels: {
      kind: 'flag',
      help: 'also check every GPU op (forward and backward, conv3d with every\nkernel and blocking ser tune may choose, the mel front end) against its\nfloat64 reference on small random inputs of awkward shapes: max |diff|\nper op, and exit 1 if any exceeds its tolerance',
    },
    'this-process': { kind: 'flag', help: "with --list: only this process's adapters, no probing" },
    backend: { kind: 'string', arg: 'NAME', help: 'Dawn backend (vulkan, metal, d3d12, opengl); env SER_BACKEND' },
    adapter: { kind: 'string', arg: 'NAME', help: 'adapter name as --list prints it; env SER_ADAPTER' },
    json: { kind: 'flag', help: 'machine-readable output' },
  },
} as const satisfies CommandDef<Record<string, OptionDef>>;

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
  const args = parseCommand(argv, DOCTOR);
  if (!args) return 0;
  const { values } = args;
  if (values['this-process'] && !values.list) throw new UsageError('--this-process only goes with --list');
  if (values.kernels && values.list) throw new UsageError('--kernels does not go with --list');
  if (values.list && values['this-process']) {
    const here = await listAdapters();
    if (values.json) console.log(JSON.stringify(here));
    else if (here.length === 0) console.log('no adapters found');
    else for (const a of here) console.log(adapterLine(a));
    return here.length > 0 ? 0 : 1;
  }
  if (values.list) return listEverything(values.json);
  const gpu = await createGpu({ backend: values.backend, adapter: values.adapter });
  const limits = Object.fromEntries(SHOWN_LIMITS.map((k) => [k, (gpu.limits as unknown as Record<string, number>)[k]]));
  const test = await selfTest(gpu);
  let kernels: KernelCheckReport | null = null;
  if (values.json) {
    if (values.kernels) kernels = await checkKernels(gpu, opChecks(gpu), (r) => process.stderr.write(`kernel check: ${r.op} ${r.ok ? 'ok' : 'FAILED'}\n`));
    console.log(JSON.stringify({ adapter: gpu.summary, limits, features: gpu.features, conv3d: conv3dKernel(gpu), waits: gpuWaitThrottled() ? 'throttled' : 'spinning', selfTest: test, ...(kernels ? { kernels } : {}) }));
  } else {
    const s = gpu.summary;
    console.log(`adapter       ${s.description || s.device || '(unnamed)'}`);
    console.log(`vendor        ${s.vendor}`);
    console.log(`architecture  ${s.architecture}`);
    console.log(`backend       ${s.backend}${s.isFallback ? ' (fallback adapter)' : ''}`);
    console.log(`features      shader-f16 ${yn(gpu.features.f16)}, timestamp-query ${yn(gpu.features.timestamps)}, subgroups ${yn(gpu.features.subgroups)}`);
    console.log(`waits         ${gpuWaitThrottled() ? 'throttled: the adapter computes on the CPU, so a wait polls every millisecond instead of spinning a core' : "Dawn's full-speed polling (a GPU adapter, or SER_GPU_SPIN=1)"}`);
    console.log(`conv3d        ${conv3dKernel(gpu)} kernels${gpu.features.shuffle8 ? ' (8-lane subgroup shuffles probed ok)' : gpu.features.subgroups ? ' (subgroups present, but not in aligned groups of 8 lanes, or SER_SUBGROUPS=0)' : ''}`);
    for (const [k, v] of Object.entries(limits)) console.log(`  ${k.padEnd(36)} ${v}`);
    console.log(`self-test     axpy on 100003 floats: ${test.ok ? 'ok' : 'FAILED'} (max error ${test.maxError.toExponential(1)}, ${test.ms.toFixed(1)} ms)`);
    if (values.kernels) {
      console.log(`\n${KERNEL_CHECK_HEADER}`);
      kernels = await checkKernels(gpu, opChecks(gpu), (r) => console.log(formatOpResult(r)));
      console.log(formatKernelCheck(kernels).split('\n').pop());
    }
  }
  gpu.destroy();
  if (!test.ok) {
    console.error(`ser doctor: self-test kernel gave wrong results (max error ${test.maxError})`);
    return 1;
  }
  if (kernels && !kernels.ok) {
    console.error(`ser doctor: ${kernels.ops.filter((o) => !o.ok).map((o) => o.op).join(', ')} disagreed with the reference`);
    return 1;
  }
  return 0;
}

export interface DriverProbe extends IcdManifest {
  /** Adapters Dawn sees in a process whose only driver is this one. */
  adapters: AdapterSummary[];
  /** Whether this process uses it (one of its adapters is one Dawn sees here). */
  inUse: boolean;
  /** Why the probe gave no answer (the child crashed or hung). */
  error?: string;
}

/** The `ser` command's script: bin/ser.js in the sources, the bundle itself in the portable build. */
const SER_BIN = BUNDLED ? fileURLToPath(new URL('./ser.mjs', import.meta.url)) : join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'ser.js');

/** `ser doctor --list --this-process --json` in a child process that loads only `manifest`. */
function probeDriver(manifest: string): Promise<{ adapters: AdapterSummary[]; error?: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, [ICD_ENV]: manifest };
  // The child must see this driver alone: VK_DRIVER_FILES (VK_ICD_FILENAMES' newer name) would win over it, VK_ADD_DRIVER_FILES add to it.
  delete env.VK_DRIVER_FILES;
  delete env.VK_ADD_DRIVER_FILES;
  return new Promise((done) => {
    execFile(process.execPath, [SER_BIN, 'doctor', '--list', '--this-process', '--json'], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const json = stdout.split('\n').find((l) => l.startsWith('['));
      if (json) return done({ adapters: JSON.parse(json) as AdapterSummary[] });
      const why = stderr.split('\n').find((l) => l.trim() && !l.startsWith('Warning: maxDynamic')) ?? err?.message ?? 'no output';
      done({ adapters: [], error: err?.killed ? 'probe timed out' : why.trim() });
    });
  });
}

/** This process's adapters, then every installed Vulkan driver probed on its own. */
export async function listDrivers(): Promise<{ adapters: AdapterSummary[]; drivers: DriverProbe[] }> {
  const adapters = await listAdapters();
  const same = (a: AdapterSummary, b: AdapterSummary): boolean => a.description === b.description && a.vendor === b.vendor;
  const drivers = await Promise.all(
    vulkanIcds().map(async (icd) => {
      const probe = await probeDriver(icd.path);
      return { ...icd, ...probe, inUse: probe.adapters.some((a) => adapters.some((h) => same(a, h))) };
    }),
  );
  return { adapters, drivers };
}

async function listEverything(json: boolean): Promise<number> {
  const { adapters, drivers } = await listDrivers();
  const found = adapters.length > 0 || drivers.some((d) => d.adapters.length > 0);
  if (json) {
    console.log(JSON.stringify({ adapters, drivers, icdOverride: icdOverride() }));
    return found ? 0 : 1;
  }
  const override = icdOverride();
  console.log(`adapters in this process${override.length ? ` (${ICD_ENV}=${override.join(':')})` : ''}:`);
  if (adapters.length === 0) console.log('  none');
  for (const a of adapters) console.log(`  ${adapterLine(a)}`);
  console.log('\nVulkan drivers installed, each probed alone (* = used by this process):');
  if (drivers.length === 0) console.log('  none: no Vulkan ICD manifest found (bash scripts/setup-webgpu.sh installs lavapipe)');
  const width = Math.max(0, ...drivers.map((d) => d.path.length));
  for (const d of drivers) {
    const what = d.adapters.length ? d.adapters.map((a) => `${a.description || a.device} (${a.vendor}, ${a.architecture})`).join('; ') : `no adapter${d.error ? `: ${d.error}` : ''}`;
    console.log(`${d.inUse ? '*' : ' '} ${d.path.padEnd(width)}  ${what}${d.onSearchPath ? '' : `  [only with ${ICD_ENV}]`}`);
  }
  const other = drivers.find((d) => !d.inUse && d.adapters.length > 0);
  if (other) console.log(`\nTo run on another driver, name its manifest when starting the command, e.g.\n  ${ICD_ENV}=${other.path} ser doctor`);
  return found ? 0 : 1;
}

function adapterLine(a: AdapterSummary): string {
  return `${a.backend.padEnd(8)} ${a.description || a.device}  (${a.vendor}, ${a.architecture})`;
}

function yn(b: boolean): string {
  return b ? 'yes' : 'no';
}
