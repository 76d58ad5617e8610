// The WebGPU runtime in Node: Dawn's instance and adapter selection, and shaders
// read from shaders/. Everything else — the Gpu, its pipelines, buffers and
// errors — lives in gpu-core.ts and is re-exported here, so Node code imports
// this module and the page (src/kernels/gpu-browser.ts) shares the rest.
//
// Backend and adapter selection: `SER_BACKEND` (vulkan, metal, d3d12, …) and
// `SER_ADAPTER` (a substring of the adapter name, as `ser doctor --list` prints)
// or the same fields of `GpuOptions`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { create, globals } from 'webgpu';
import { GpuError, expandIncludes, openDevice, summariseAdapter, type AdapterSummary, type Gpu } from './gpu-core.js';
import { loadConv3dTuning, tuningEnabled } from './tune-cache.js';
import { SHADER_FILES } from '../util/bundle.js';

export * from './gpu-core.js';

// Dawn's node bindings expose the WebGPU constructors and enums (GPUBufferUsage, …) here.
Object.assign(globalThis, globals);

export const SHADER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shaders');

export interface GpuOptions {
  backend?: string;
  adapter?: string;
  powerPreference?: GPUPowerPreference;
}

/**
 * The WGSL of `shaders/<name>.wgsl`, read from disk (in the portable build, the text of
 * shaders/ as it was when built), with each line `// #include <file>.wgsl` replaced by
 * that file of shaders/ (`expandIncludes`).
 */
export function loadShaderSource(name: string): string {
  return expandIncludes(name, (file) => {
    if (SHADER_FILES) {
      const text = SHADER_FILES[file];
      if (text === undefined) throw new Error(`shader not found in the build: ${file}`);
      return text;
    }
    const path = join(SHADER_DIR, file);
    try {
      return readFileSync(path, 'utf8');
    } catch {
      throw new Error(`shader not found: ${path}`);
    }
  });
}

const DEFAULT_BACKEND: Record<string, string> = { linux: 'vulkan', darwin: 'metal', win32: 'd3d12' };

function summarise(adapter: GPUAdapter, opts: GpuOptions): AdapterSummary {
  // Dawn's node bindings do not report the backend; it is the one we asked for, else the platform's first choice.
  return summariseAdapter(adapter, opts.backend ?? process.env.SER_BACKEND ?? DEFAULT_BACKEND[process.platform] ?? 'unknown');
}

function dawnFlags(opts: GpuOptions): string[] {
  const flags: string[] = [];
  const backend = opts.backend ?? process.env.SER_BACKEND;
  const adapter = opts.adapter ?? process.env.SER_ADAPTER;
  if (backend) flags.push(`backend=${backend}`);
  if (adapter) flags.push(`adapter=${adapter}`);
  return flags;
}

function ensureRuntimeDir(): void {
  // Dawn's Vulkan loader path warns (and some drivers fail) without it.
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
}

const NO_ADAPTER_HELP =
  'no WebGPU adapter found. On Debian/Ubuntu run `bash scripts/setup-webgpu.sh` (installs the Vulkan loader and ' +
  "Mesa's lavapipe CPU driver); elsewhere install a Vulkan driver for your GPU, or Mesa >= 23 lavapipe.";

/** Lists adapters the way Dawn sees them (one entry per backend that yields one). */
export async function listAdapters(): Promise<AdapterSummary[]> {
  ensureRuntimeDir();
  const out: AdapterSummary[] = [];
  for (const backend of ['vulkan', 'metal', 'd3d12', 'opengl']) {
    try {
      const gpu = create([`backend=${backend}`]);
      for (const pref of ['high-performance', 'low-power'] as const) {
        const a = await gpu.requestAdapter({ powerPreference: pref });
        if (!a) continue;
        const s = summarise(a, { backend });
        if (!out.some((o) => o.description === s.description && o.backend === s.backend)) out.push(s);
      }
    } catch {
      // Backend not compiled into this Dawn build or not present on this OS.
    }
  }
  return out;
}

let shared: Promise<Gpu> | null = null;

/** The process-wide GPU (created on first use). */
export function getGpu(opts: GpuOptions = {}): Promise<Gpu> {
  shared ??= createGpu(opts).catch((e) => {
    shared = null;
    throw e;
  });
  return shared;
}

export async function createGpu(opts: GpuOptions = {}): Promise<Gpu> {
  ensureRuntimeDir();
  let adapter: GPUAdapter | null = null;
  let instance: GPU;
  try {
    instance = create(dawnFlags(opts));
    adapter = await instance.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } catch (e) {
    throw new GpuError(`${NO_ADAPTER_HELP} (${(e as Error).message.split('\n')[0]})`, 'no-adapter');
  }
  if (!adapter) throw new GpuError(NO_ADAPTER_HELP, 'no-adapter');

  const g = await openDevice(adapter, summarise(adapter, opts), loadShaderSource, { subgroups: process.env.SER_SUBGROUPS !== '0' });
  g.profile = !process.env.SER_PROFILE || process.env.SER_PROFILE === '0' ? false : process.env.SER_PROFILE === 'grid' ? 'grid' : 'shader';
  // Dawn's instance must outlive the device: if it is garbage-collected, its event
  // processing runs on freed memory and the process crashes.
  g.instance = instance!;
  // `ser tune`'s choices for this adapter, if it has been tuned (src/kernels/tune-cache.ts).
  if (tuningEnabled()) loadConv3dTuning(g);
  return g;
}
