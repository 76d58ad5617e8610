import { afterEach, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { conv3dForward, conv3dOutShape, type Conv3dShape } from '../src/kernels/conv3d.js';
import { cpuAdapter, gpuWait, gpuWaitThrottled, gpuWaitTicks, setGpuWaitThrottle, SPIN_MS } from '../src/kernels/gpu-wait.js';
import { makeRng, uniform } from './util/check.js';

const nativeSetImmediate = globalThis.setImmediate;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  // Whatever a test did, the next starts from Node's own setImmediate.
  expect(globalThis.setImmediate).toBe(nativeSetImmediate);
});

it('while a wait is pending, setImmediate runs at full speed for SPIN_MS, then defers by a timer; afterwards it is Node’s own again', async () => {
  let inside: typeof setImmediate | undefined;
  const tick = () => new Promise<void>((resolve) => globalThis.setImmediate(resolve));
  await gpuWait(async () => {
    inside = globalThis.setImmediate;
    const start = { ...gpuWaitTicks };
    await tick();
    expect(gpuWaitTicks, 'within SPIN_MS').toEqual({ immediate: start.immediate + 1, deferred: start.deferred });
    await sleep(2 * SPIN_MS + 2);
    const t0 = performance.now();
    await tick();
    expect(gpuWaitTicks, 'past SPIN_MS').toEqual({ immediate: start.immediate + 1, deferred: start.deferred + 1 });
    // Node's timers may fire a little early, never much.
    expect(performance.now() - t0).toBeGreaterThan(0.5);
  });
  expect(inside).not.toBe(nativeSetImmediate);
  expect(globalThis.setImmediate).toBe(nativeSetImmediate);
});

it('overlapping waits restore setImmediate when the last settles, also when one rejects', async () => {
  let release!: () => void;
  const long = gpuWait(() => new Promise<void>((resolve) => (release = resolve)));
  await expect(gpuWait(() => Promise.reject(new Error('device lost')))).rejects.toThrow('device lost');
  expect(globalThis.setImmediate, 'the first wait is still pending').not.toBe(nativeSetImmediate);
  release();
  await long;
  expect(globalThis.setImmediate).toBe(nativeSetImmediate);
  await expect(gpuWait(() => Promise.reject(new Error('alone')))).rejects.toThrow('alone');
  expect(globalThis.setImmediate).toBe(nativeSetImmediate);
});

it('Dawn polls a pending readback through the global setImmediate, so a long wait is throttled rather than spun', async () => {
  // If a future `webgpu` kept its own reference to setImmediate, no tick would be
  // counted here and the throttle would silently do nothing.
  const gpu = await getGpu();
  const s: Conv3dShape = { n: 8, d: 3, h: 64, w: 30, cin: 8, cout: 16, kd: 1, kh: 3, kw: 3, padding: 'same' };
  const rng = makeRng(1);
  const x = gpu.upload(uniform(rng, s.n * s.d * s.h * s.w * s.cin));
  const w = gpu.upload(uniform(rng, 9 * s.cin * s.cout));
  const yLen = conv3dOutShape(s).reduce((a, b) => a * b, 1);
  const y = gpu.upload(new Float32Array(yLen));
  const before = { ...gpuWaitTicks };
  const t0 = performance.now();
  // Several forwards in one submit, so the readback waits well past SPIN_MS.
  run(gpu, (r) => {
    for (let i = 0; i < 4; i++) conv3dForward(r, y, x, w, null, s, { kernel: 'direct' });
  });
  const out = await gpu.readF32(y, 4);
  const ms = performance.now() - t0;
  const immediate = gpuWaitTicks.immediate - before.immediate;
  const deferred = gpuWaitTicks.deferred - before.deferred;
  console.log(`readback after ${ms.toFixed(1)} ms: ${immediate} full-speed ticks, ${deferred} deferred`);
  expect(out.every(Number.isFinite)).toBe(true);
  expect(ms, 'the work outlasts the full-speed phase').toBeGreaterThan(5 * SPIN_MS);
  expect(deferred, 'ticks deferred by a timer').toBeGreaterThan(0);
  // A timer a millisecond (at most about one tick per elapsed millisecond, with slack for timer jitter).
  expect(deferred).toBeLessThanOrEqual(ms + 5);
  for (const b of [x, w, y]) b.destroy();
});

it('throttles on adapters that compute on the CPU, spins on a GPU; SER_GPU_SPIN overrides either way', async () => {
  const lavapipe = { vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)', isFallback: true };
  const swiftshader = { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)', isFallback: false };
  const gpuAdapter = { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200', isFallback: false };
  expect([lavapipe, swiftshader, gpuAdapter].map(cpuAdapter)).toEqual([true, true, false]);
  // This machine's adapter computes on the CPU, so opening it turned the throttle on.
  const gpu = await getGpu();
  expect(cpuAdapter(gpu.summary)).toBe(true);
  expect(gpuWaitThrottled()).toBe(true);
  const spin = process.env.SER_GPU_SPIN;
  setGpuWaitThrottle(false);
  try {
    let inside: typeof setImmediate | undefined;
    await gpuWait(async () => {
      inside = globalThis.setImmediate;
    });
    expect(inside, 'a GPU adapter: Dawn polls at full speed').toBe(nativeSetImmediate);
    process.env.SER_GPU_SPIN = '0';
    expect(gpuWaitThrottled(), 'SER_GPU_SPIN=0 throttles on any adapter').toBe(true);
    setGpuWaitThrottle(true);
    process.env.SER_GPU_SPIN = '1';
    expect(gpuWaitThrottled(), 'SER_GPU_SPIN=1 spins on any adapter').toBe(false);
  } finally {
    setGpuWaitThrottle(true);
    if (spin === undefined) delete process.env.SER_GPU_SPIN;
    else process.env.SER_GPU_SPIN = spin;
  }
});
