// Kernels are described once by a spec (shader file, params fields, bindings),
// and dispatched through a Recorder that batches a whole step into one command
// buffer. Nobody keeps binding indices in sync by hand: the spec's order is the
// shader's binding order.
//
// Binding convention of every shader in shaders/:
//   @group(0) @binding(0) var<uniform> params : Params;   (fields in spec order, 4 bytes each)
//   @binding(1..)  inputs   var<storage, read>
//   @binding(..)   outputs  var<storage, read_write>       (last)
// Shapes travel in `params`; tile and workgroup sizes are `override` constants.
import { BufferPool, Gpu, align } from './gpu-core.js';
import { bindingRange, type Binding, type BufferRange } from './binding.js';
import { profilerOf, type Profiler } from './profile.js';

export { bindingRuns, rowRange, type Binding, type BufferRange, type RowRun } from './binding.js';

export type ParamType = 'u32' | 'i32' | 'f32';

export interface KernelSpec {
  /** Stem of `shaders/<shader>.wgsl`. */
  readonly shader: string;
  /** Fields of the params uniform, in declaration order. */
  readonly params: readonly (readonly [string, ParamType])[];
  /** Read-only storage bindings, after the params uniform. */
  readonly inputs: readonly string[];
  /** Read-write storage bindings, last. */
  readonly outputs: readonly string[];
}

/** A byte range of a buffer: a slice of a tensor too large for one storage binding (see `bindingRuns`). */
export interface Dispatch {
  params?: Record<string, number>;
  buffers: Record<string, Binding>;
  /** `override` constants (workgroup and tile sizes); part of the pipeline cache key. */
  constants?: Record<string, number>;
  workgroups: readonly [number, number?, number?];
}

/** Bytes reserved per dispatch in the params arena (the uniform-offset alignment WebGPU guarantees). */
const PARAMS_SLOT = 256;

const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
function bufferId(b: GPUBuffer): number {
  let id = bufferIds.get(b);
  if (id === undefined) {
    id = nextBufferId++;
    bufferIds.set(b, id);
  }
  return id;
}

interface SpecState {
  bindGroupLayout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
  layoutKey: string;
}

/** Per-GPU caches of layouts and bind groups, so a repeated step creates no objects. */
class KernelCache {
  specs = new Map<KernelSpec, SpecState>();
  bindGroups = new Map<string, GPUBindGroup>();
  arenas: ParamsArena[] = [];
}
const caches = new WeakMap<Gpu, KernelCache>();
function cacheOf(gpu: Gpu): KernelCache {
  let c = caches.get(gpu);
  if (!c) caches.set(gpu, (c = new KernelCache()));
  return c;
}

function specState(gpu: Gpu, spec: KernelSpec): SpecState {
  const cache = cacheOf(gpu);
  let s = cache.specs.get(spec);
  if (!s) {
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: 0 } },
    ];
    let b = 1;
    for (const _ of spec.inputs) entries.push({ binding: b++, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } });
    for (const _ of spec.outputs) entries.push({ binding: b++, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } });
    const bindGroupLayout = gpu.device.createBindGroupLayout({ label: spec.shader, entries });
    const pipelineLayout = gpu.device.createPipelineLayout({ label: spec.shader, bindGroupLayouts: [bindGroupLayout] });
    s = { bindGroupLayout, pipelineLayout, layoutKey: `r${spec.inputs.length}w${spec.outputs.length}` };
    cache.specs.set(spec, s);
  }
  return s;
}

/** A uniform buffer that holds every dispatch's params for one submit, written once. */
class ParamsArena {
  buffer: GPUBuffer;
  staging: ArrayBuffer;
  used = 0;
  constructor(
    private gpu: Gpu,
    capacity: number,
  ) {
    this.buffer = gpu.createBuffer({ label: 'params arena', size: capacity, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.staging = new ArrayBuffer(capacity);
  }
  get capacity(): number {
    return this.staging.byteLength;
  }
  /** Reserves a slot and returns its offset, or -1 when full. */
  reserve(): number {
    if (this.used + PARAMS_SLOT > this.capacity) return -1;
    const off = this.used;
    this.used += PARAMS_SLOT;
    return off;
  }
  flush(): void {
    if (this.used > 0) this.gpu.device.queue.writeBuffer(this.buffer, 0, this.staging, 0, this.used);
    this.used = 0;
  }
}

/**
 * Records dispatches into one command encoder and one compute pass (WebGPU makes
 * each dispatch see the writes of the previous ones), then submits them at once.
 */
export class Recorder {
  readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private arenas: ParamsArena[] = [];
  private submitted = false;
  /** Buffers to return to the pool once this recorder's work is submitted. */
  private toRelease: GPUBuffer[] = [];
  /** Temporaries `release` gave back, for this recording's later `acquire`s (to the pool at submit). */
  private reusable: GPUBuffer[] = [];
  dispatches = 0;
  /** With a profiler, every dispatch gets its own timestamped pass (slower; for `SER_PROFILE=1` runs). */
  private profiler: Profiler | null;

  constructor(readonly gpu: Gpu, label = 'step') {
    this.encoder = gpu.device.createCommandEncoder({ label });
    this.profiler = profilerOf(gpu);
  }

  get pool(): BufferPool {
    return this.gpu.pool;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.encoder.beginComputePass();
    return this.pass;
  }

  /** Ends the open compute pass, if any (before copies, clears or timestamp markers). */
  endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private paramsSlot(): { arena: ParamsArena; offset: number } {
    let arena = this.arenas[this.arenas.length - 1];
    let offset = arena ? arena.reserve() : -1;
    if (!arena || offset < 0) {
      const cache = cacheOf(this.gpu);
      arena = cache.arenas.pop() ?? new ParamsArena(this.gpu, 256 * PARAMS_SLOT);
      this.arenas.push(arena);
      offset = arena.reserve();
    }
    return { arena, offset };
  }

  dispatch(spec: KernelSpec, d: Dispatch): void {
    if (this.submitted) throw new Error('Recorder already submitted');
    const gpu = this.gpu;
    const state = specState(gpu, spec);
    const pipeline = gpu.pipeline(spec.shader, state.pipelineLayout, state.layoutKey, d.constants);

    const { arena, offset } = this.paramsSlot();
    const view = new DataView(arena.staging, offset, PARAMS_SLOT);
    spec.params.forEach(([name, type], i) => {
      const v = d.params?.[name];
      if (v === undefined) throw new Error(`${spec.shader}: missing param ${name}`);
      if (type === 'f32') view.setFloat32(i * 4, v, true);
      else if (type === 'i32') view.setInt32(i * 4, v, true);
      else view.setUint32(i * 4, v, true);
    });

    const names = [...spec.inputs, ...spec.outputs];
    const ranges = names.map((n) => {
      const b = d.buffers[n];
      if (!b) throw new Error(`${spec.shader}: missing buffer ${n}`);
      return bindingRange(gpu, spec.shader, n, b);
    });
    const cache = cacheOf(gpu);
    const key = `${spec.shader}:${bufferId(arena.buffer)}:${ranges.map((b) => `${bufferId(b.buffer)}@${b.offset}+${b.size}`).join(',')}`;
    let group = cache.bindGroups.get(key);
    if (!group) {
      if (cache.bindGroups.size > 8192) cache.bindGroups.clear();
      group = gpu.device.createBindGroup({
        layout: state.bindGroupLayout,
        entries: [
          { binding: 0, resource: { buffer: arena.buffer, size: PARAMS_SLOT } },
          ...ranges.map((resource, i) => ({ binding: i + 1, resource })),
        ],
      });
      cache.bindGroups.set(key, group);
    }

    const [x, y = 1, z = 1] = d.workgroups;
    const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) throw new Error(`${spec.shader}: dispatch ${x}×${y}×${z} exceeds ${maxDim} per dimension`);
    if (x === 0 || y === 0 || z === 0) return;
    const timed = this.profiler?.slot(gpu.profile === 'grid' ? `${spec.shader} ${x}×${y}×${z}` : spec.shader);
    if (timed) {
      this.endPass();
      this.pass = this.encoder.beginComputePass({ timestampWrites: timed });
    }
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [offset]);
    pass.dispatchWorkgroups(x, y, z);
    if (timed) this.endPass();
    this.dispatches++;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, align(bytes, 4));
  }

  clear(buf: GPUBuffer, offset = 0, bytes?: number): void {
    this.endPass();
    this.encoder.clearBuffer(buf, offset, bytes);
  }

  /** Returns `buf` to the pool after this recorder's work is submitted. */
  releaseAfterSubmit(buf: GPUBuffer): void {
    this.toRelease.push(buf);
  }

  /**
   * A temporary for this recording: one that `release` gave back earlier in it, if one
   * of the size class is free, else one from the pool.
   */
  acquire(bytes: number, label?: string): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const i = this.reusable.findIndex((b) => b.size === size);
    if (i < 0) return this.gpu.pool.acquire(bytes, label);
    const buf = this.reusable.splice(i, 1)[0]!;
    this.gpu.pool.noteAcquired(buf, bytes);
    return buf;
  }

  /**
   * Gives a temporary back for this recording's later `acquire`s; it returns to the
   * pool at submit. WebGPU runs a command buffer's dispatches as if one after another,
   * with the barriers a buffer written by a later dispatch needs, so reuse within the
   * recording is safe. Reuse outside it before submission would not be: a
   * `queue.writeBuffer` into the buffer would land before this recording's commands.
   */
  release(buf: GPUBuffer): void {
    this.reusable.push(buf);
  }

  submit(): void {
    if (this.submitted) return;
    this.endPass();
    // writeBuffer is ordered before the submit on the queue, so the arenas may be reused right after.
    for (const a of this.arenas) a.flush();
    this.profiler?.resolve(this.encoder);
    this.gpu.device.queue.submit([this.encoder.finish()]);
    void this.profiler?.collect();
    this.submitted = true;
    const cache = cacheOf(this.gpu);
    cache.arenas.push(...this.arenas);
    this.arenas = [];
    for (const b of [...this.toRelease, ...this.reusable]) this.gpu.pool.release(b);
    this.toRelease = [];
    this.reusable = [];
  }
}

/**
 * Workgroup counts for `n` threads of `wgSize` each, folded into y when x would
 * exceed the per-dimension limit. Shaders recover the linear index as
 * `gid.x + gid.y * (num_workgroups.x * WG)` and bound-check against n.
 */
export function grid1d(gpu: Gpu, n: number, wgSize: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / wgSize));
  const maxDim = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxDim) return [groups, 1];
  const y = Math.ceil(groups / maxDim);
  return [Math.ceil(groups / y), y];
}

/** Runs `record` in its own recorder and submits it. */
export function run(gpu: Gpu, record: (r: Recorder) => void, label?: string): void {
  const r = new Recorder(gpu, label);
  record(r);
  r.submit();
}

/**
 * GPU time in ms of the work `record` encodes: timestamp queries written by
 * empty marker passes around it where the adapter has them (so the work itself
 * may use any number of passes), otherwise wall clock around queue completion.
 */
export async function timeRecorded(gpu: Gpu, record: (r: Recorder) => void): Promise<number> {
  if (gpu.features.timestamps) {
    const querySet = gpu.device.createQuerySet({ type: 'timestamp', count: 2 });
    const resolve = gpu.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const r = new Recorder(gpu, 'timed');
    r.encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0 } }).end();
    record(r);
    r.endPass();
    r.encoder.beginComputePass({ timestampWrites: { querySet, endOfPassWriteIndex: 1 } }).end();
    r.encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
    r.submit();
    const t = new BigUint64Array(await gpu.readBytes(resolve, 16));
    querySet.destroy();
    resolve.destroy();
    const ns = Number(t[1]! - t[0]!);
    // Some drivers report zero or wrapped stamps; fall back to wall clock then.
    if (ns > 0 && ns < 1e12) return ns / 1e6;
  }
  const t0 = performance.now();
  run(gpu, record, 'timed');
  await gpu.sync();
  return performance.now() - t0;
}
