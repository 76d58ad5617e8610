// The WebGPU runtime in a web page: the adapter comes from `navigator.gpu` and the
// WGSL from a table of shaders/ bundled as text (src/web/shaders.ts), so the page
// runs the very kernels the Node entry (gpu.ts) reads from disk. Everything past
// the adapter — device, probe, pipelines, buffers — is gpu-core.ts, shared.
import { GpuError, expandIncludes, openDevice, summariseAdapter, type Gpu } from './gpu-core.js';

/** Every file of shaders/ by name (`stft_mel.wgsl` → its text). */
export type ShaderTable = Readonly<Record<string, string>>;

export interface BrowserGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** false: portable conv3d kernels only (the page's `?subgroups=0`). */
  subgroups?: boolean;
}

/** The page's GPU. Throws a GpuError of kind 'no-adapter' whose message a person can act on. */
export async function createBrowserGpu(shaders: ShaderTable, opts: BrowserGpuOptions = {}): Promise<Gpu> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new GpuError(
      'this browser does not offer WebGPU (navigator.gpu is missing). Open the page in a browser with WebGPU — a recent Chrome or Edge; ' +
        'on Linux, Chromium started with --enable-unsafe-webgpu --enable-features=Vulkan — from http://localhost or https.',
      'no-adapter',
    );
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  } catch (e) {
    throw new GpuError(`WebGPU refused an adapter: ${(e as Error).message}`, 'no-adapter');
  }
  if (!adapter) throw new GpuError('WebGPU is present but offers no adapter (the GPU may be blocklisted; see chrome://gpu).', 'no-adapter');
  const read = (file: string): string => {
    const text = shaders[file];
    if (text === undefined) throw new Error(`shader not in the bundle: ${file}`);
    return text;
  };
  return openDevice(adapter, summariseAdapter(adapter, 'webgpu'), (name) => expandIncludes(name, read), { subgroups: opts.subgroups });
}
