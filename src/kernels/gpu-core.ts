// The WebGPU runtime that does not depend on where the device comes from: the
// Gpu (device, error scopes, shaders, pipelines, upload/readback) and opening a
// device on an adapter, with its feature probes; the buffer pool is pool.ts, the
// error type gpu-error.ts. Two entry points hand it an adapter
// and a way to read shaders: src/kernels/gpu.ts in Node (Dawn's instance, WGSL
// read from shaders/) and src/kernels/gpu-browser.ts in a page (navigator.gpu,
// WGSL bundled as text). Nothing here may import a Node module or Dawn.
import { GpuError } from './gpu-error.js';
import { BufferPool, checkBufferSize } from './pool.js';
import { GpuMemory } from './memory.js';
import { cpuAdapter, gpuWait, setGpuWaitThrottle } from './gpu-wait.js';
import type { Conv3dOptions } from './conv3d_blocking.js';

export { BufferPool, GpuError, GpuMemory };

/** The WGSL of a shader by its stem (`conv3d_forward`), includes already expanded. */
export type ShaderSource = (name: string) => string;

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: string;
  isFallback: boolean;
}

export interface GpuFeatures {
  f16: boolean;
  timestamps: boolean;
  subgroups: boolean;
  /**
   * Subgroups whose lanes form aligned groups of 8 consecutive invocations with working
   * shuffles (probed once, shaders/subgroup_probe.wgsl): what the conv3d subgroup kernels
   * need. `SER_SUBGROUPS=0` turns it off, so the portable kernels run instead.
   */
  shuffle8: boolean;
}

/** Limits the kernels care about; we ask for the adapter's maxima of these. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export type LimitName = (typeof WANTED_LIMITS)[number];

export class Gpu {
  readonly pipelines = new Map<string, GPUComputePipeline>();
  readonly shaderModules = new Map<string, GPUShaderModule>();
  readonly pool: BufferPool;
  /** Bytes of the buffers created through createBuffer that are alive, and their high-water mark. */
  readonly memory = new GpuMemory();
  /** First uncaptured error since the last check; thrown at the next sync point. */
  private pendingError: GpuError | null = null;
  private lostReason: string | null = null;
  /** Keeps Dawn's instance alive as long as the device (Node only). */
  instance: GPU | null = null;
  /**
   * Per-dispatch GPU timestamps (src/kernels/kernel.ts), in Node from SER_PROFILE:
   * summed per shader (`1`), or per shader and workgroup grid, which tells the layers apart (`grid`).
   */
  profile: false | 'shader' | 'grid' = false;
  /** Largest storage binding; tests lower it to exercise the ops' sliced paths. */
  maxBindingBytes: number;
  /**
   * The conv3d kernel and blocking per layer shape (conv3dTuneKey) that `ser tune`
   * measured fastest on this adapter; empty until loaded (src/kernels/conv3d_tune.ts).
   * Dispatches asked for no particular kernel use it.
   */
  readonly conv3dTuning = new Map<string, Conv3dOptions>();

  constructor(
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly summary: AdapterSummary,
    readonly features: GpuFeatures,
    readonly shaderSource: ShaderSource,
  ) {
    this.pool = new BufferPool(device, this.memory);
    this.maxBindingBytes = device.limits.maxStorageBufferBindingSize;
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      // We report it ourselves at the next sync; Dawn would otherwise print it to stdout, into --json output.
      ev.preventDefault();
      const e = ev.error;
      const kind = e instanceof GPUOutOfMemoryError ? 'out-of-memory' : e instanceof GPUValidationError ? 'validation' : 'internal';
      this.pendingError ??= new GpuError(`GPU ${kind} error: ${e.message}`, kind);
    };
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Throws the first GPU error seen since the last call, or a device-lost error. */
  check(): void {
    if (this.lostReason !== null) {
      throw new GpuError(`GPU device lost (${this.lostReason}). Work since the last checkpoint is gone; restart the command.`, 'device-lost');
    }
    const err = this.pendingError;
    if (err) {
      this.pendingError = null;
      if (err.kind === 'out-of-memory') err.message += ' — try a smaller --batch.';
      throw err;
    }
  }

  /** Waits for all submitted work, then reports any error it caused. */
  async sync(): Promise<void> {
    await gpuWait(() => this.device.queue.onSubmittedWorkDone());
    this.check();
  }

  shaderModule(name: string): GPUShaderModule {
    let mod = this.shaderModules.get(name);
    if (!mod) {
      const code = this.shaderSource(name);
      mod = this.device.createShaderModule({ label: name, code });
      this.shaderModules.set(name, mod);
    }
    return mod;
  }

  /**
   * A compute pipeline for `shaders/<shader>.wgsl`, specialised by its `override`
   * constants; cached on (shader, layout, constants) so each variant compiles once.
   */
  pipeline(shader: string, layout: GPUPipelineLayout | 'auto', layoutKey: string, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = `${shader}|${layoutKey}|${Object.keys(constants)
      .sort()
      .map((k) => `${k}=${constants[k]}`)
      .join(',')}`;
    let p = this.pipelines.get(key);
    if (!p) {
      this.device.pushErrorScope('validation');
      p = this.device.createComputePipeline({
        label: key,
        layout,
        compute: { module: this.shaderModule(shader), entryPoint: 'main', constants },
      });
      // Compilation errors surface asynchronously; record them so the next sync throws with the shader's name.
      void gpuWait(() => this.device.popErrorScope()).then((e) => {
        // The compile message says why; it replaces the later "invalid pipeline" errors it causes.
        if (e && (!this.pendingError || this.pendingError.message.includes('Invalid ComputePipeline'))) {
          this.pendingError = new GpuError(`shader ${shader} failed to compile: ${e.message}`, 'validation');
        }
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Every buffer the project makes comes from here, so that `memory` counts it. */
  createBuffer(descriptor: GPUBufferDescriptor): GPUBuffer {
    return this.memory.track(this.device.createBuffer(descriptor));
  }

  /** A storage buffer holding `data` (padded to 4 bytes). */
  upload(data: Float32Array | Uint32Array | Int32Array, label = 'upload'): GPUBuffer {
    checkBufferSize(this.device, data.byteLength, label);
    const buf = this.createBuffer({
      label,
      size: Math.max(16, align(data.byteLength, 16)),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  /** MAP_READ buffers by size class, reused so that per-step readbacks create nothing. */
  private staging = new Map<number, GPUBuffer[]>();

  /** Copies `byteLength` bytes of `buf` back to the CPU (waits for the GPU). */
  async readBytes(buf: GPUBuffer, byteLength = buf.size, offset = 0): Promise<ArrayBuffer> {
    const size = align(byteLength, 4);
    const cls = BufferPool.sizeClass(size);
    const staging = this.staging.get(cls)?.pop() ?? this.createBuffer({ label: 'readback staging', size: cls, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buf, offset, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    try {
      await gpuWait(() => staging.mapAsync(GPUMapMode.READ, 0, size));
    } catch (e) {
      staging.destroy();
      this.check();
      throw e;
    }
    this.check();
    const out = staging.getMappedRange(0, size).slice(0, byteLength);
    staging.unmap();
    const free = this.staging.get(cls);
    if (free) free.push(staging);
    else this.staging.set(cls, [staging]);
    return out;
  }

  async readF32(buf: GPUBuffer, length?: number, offsetElems = 0): Promise<Float32Array> {
    const n = length ?? buf.size / 4 - offsetElems;
    return new Float32Array(await this.readBytes(buf, n * 4, offsetElems * 4));
  }

  async readU32(buf: GPUBuffer, length?: number): Promise<Uint32Array> {
    const n = length ?? buf.size / 4;
    return new Uint32Array(await this.readBytes(buf, n * 4));
  }

  destroy(): void {
    this.pool.clear();
    for (const list of this.staging.values()) for (const b of list) b.destroy();
    this.staging.clear();
    this.device.destroy();
    this.memory.deviceDestroyed();
  }
}

export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/**
 * Expands each line `// #include <file>.wgsl` of shader `name` into that file
 * (WGSL has no includes; this keeps helpers that several shaders need in one file
 * on disk, e.g. shaders/conv3d_common.wgsl). `read` returns a file of shaders/ by
 * its name. One level deep: an included file's own include lines stay comments.
 */
export function expandIncludes(name: string, read: (file: string) => string): string {
  return read(`${name}.wgsl`).replace(/^\/\/ #include ([\w.-]+\.wgsl)[ \t]*$/gm, (_, file: string) => read(file));
}

/** What an adapter says about itself; `backend` when the adapter does not tell. */
export function summariseAdapter(adapter: GPUAdapter, backend: string): AdapterSummary {
  const info = adapter.info as GPUAdapterInfo & { backendType?: string; isFallbackAdapter?: boolean };
  return {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    device: info.device || '',
    description: info.description || '',
    backend: String(info.backendType ?? backend).toLowerCase(),
    isFallback: Boolean(info.isFallbackAdapter),
  };
}

/** Runs shaders/subgroup_probe.wgsl; any failure (compile error included) means no. */
async function probeShuffle8(adapter: GPUAdapter, device: GPUDevice, shaderSource: ShaderSource): Promise<boolean> {
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number };
  if (info.subgroupMinSize !== undefined && info.subgroupMinSize < 8) return false;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: 'subgroup_probe', code: shaderSource('subgroup_probe') });
  const pipeline = device.createComputePipeline({ label: 'subgroup_probe', layout: 'auto', compute: { module, entryPoint: 'main' } });
  // Not counted in Gpu.memory: both buffers are gone before the Gpu exists.
  const out = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] }));
  pass.dispatchWorkgroups(1);
  pass.end();
  enc.copyBufferToBuffer(out, 0, read, 0, 256);
  device.queue.submit([enc.finish()]);
  const error = await gpuWait(() => device.popErrorScope());
  let good = false;
  if (!error) {
    await gpuWait(() => read.mapAsync(GPUMapMode.READ));
    good = new Uint32Array(read.getMappedRange()).every((v) => v === 1);
    read.unmap();
  }
  out.destroy();
  read.destroy();
  return good;
}

export interface OpenOptions {
  /** Probe for the 8-lane shuffles of the conv3d subgroup kernels (false: portable kernels only). */
  subgroups?: boolean;
}

/**
 * A device on `adapter` with the adapter's maxima of the limits the kernels use
 * and the optional features they can exploit; the subgroup probe decides
 * `features.shuffle8`.
 */
export async function openDevice(adapter: GPUAdapter, summary: AdapterSummary, shaderSource: ShaderSource, opts: OpenOptions = {}): Promise<Gpu> {
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const optional: GPUFeatureName[] = ['shader-f16', 'timestamp-query', 'subgroups'];
  const requiredFeatures = optional.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'ser-webgpu' });
  const features: GpuFeatures = {
    f16: device.features.has('shader-f16'),
    timestamps: device.features.has('timestamp-query'),
    subgroups: device.features.has('subgroups'),
    shuffle8: false,
  };
  if (features.subgroups && opts.subgroups !== false) features.shuffle8 = await probeShuffle8(adapter, device, shaderSource);
  // A CPU adapter's waits must not spin a core its compute threads need (gpu-wait.ts).
  setGpuWaitThrottle(cpuAdapter(summary));
  return new Gpu(adapter, device, summary, features, shaderSource);
}
