import { describe, expect, it, afterAll } from 'vitest';
import { createGpu, getGpu, BufferPool, GpuError, GpuMemory } from '../src/kernels/gpu.js';
import { conv3dKernel } from '../src/kernels/conv3d.js';
import { Recorder, grid1d, run, timeRecorded } from '../src/kernels/kernel.js';
import { axpy } from '../src/kernels/axpy.js';
import { axpyRef } from '../src/ref/axpy.js';
import { AXPY_TOL } from '../src/kernels/tolerances.js';
import { selfTest, type DriverProbe } from '../src/cli/doctor.js';
import { swiftshaderManifest, vulkanIcds } from '../src/kernels/vulkan-icd.js';
import { runSer } from './util/cli.js';
import { expectClose } from './util/check.js';

const gpu = await getGpu();

describe('gpu runtime', () => {
  it('runs the self-test kernel on the adapter', async () => {
    const t = await selfTest(gpu);
    expect(t.maxError).toBeLessThan(1e-5);
    expect(t.ok).toBe(true);
  });

  it('probes 8-lane subgroup shuffles only where the device has subgroups; SER_SUBGROUPS=0 turns them off', async () => {
    console.log(`subgroups ${gpu.features.subgroups}, shuffle8 ${gpu.features.shuffle8}`);
    if (!gpu.features.subgroups) expect(gpu.features.shuffle8).toBe(false);
    const saved = process.env.SER_SUBGROUPS;
    process.env.SER_SUBGROUPS = '0';
    try {
      const plain = await createGpu();
      expect(plain.features.shuffle8).toBe(false);
      expect(conv3dKernel(plain)).toBe('direct');
      plain.destroy();
    } finally {
      if (saved === undefined) delete process.env.SER_SUBGROUPS;
      else process.env.SER_SUBGROUPS = saved;
    }
  });

  it('axpy matches the reference on odd sizes, including 1 and one past a workgroup', async () => {
    for (const n of [1, 255, 257, 4099]) {
      const x = Float32Array.from({ length: n }, (_, i) => (i % 7) - 3.5);
      const y = Float32Array.from({ length: n }, (_, i) => i / n);
      const xb = gpu.upload(x);
      const yb = gpu.upload(y);
      run(gpu, (r) => axpy(r, n, -1.25, xb, yb));
      expectClose(`axpy n=${n}`, await gpu.readF32(yb, n), axpyRef(-1.25, x, y), AXPY_TOL);
      xb.destroy();
      yb.destroy();
    }
  });

  it('folds dispatches past the per-dimension workgroup limit into y', () => {
    const max = gpu.limits.maxComputeWorkgroupsPerDimension;
    const [x, y] = grid1d(gpu, (max + 10) * 64, 64);
    expect(x).toBeLessThanOrEqual(max);
    expect(x * y).toBeGreaterThanOrEqual(max + 10);
    const [x1, y1] = grid1d(gpu, 100, 64);
    expect([x1, y1]).toEqual([2, 1]);
  });

  it('keeps many dispatches in one submit with distinct params', async () => {
    const n = 1000;
    const xb = gpu.upload(new Float32Array(n).fill(1));
    const yb = gpu.upload(new Float32Array(n));
    const r = new Recorder(gpu);
    // 300 dispatches overflow one params arena (256 slots), exercising the second.
    for (let k = 1; k <= 300; k++) axpy(r, n, k, xb, yb);
    r.submit();
    const got = await gpu.readF32(yb, n);
    expect(got[0]).toBe((300 * 301) / 2);
    expect(got[n - 1]).toBe((300 * 301) / 2);
  });

  it('reuses pooled buffers by size class, so steady state allocates nothing', () => {
    const pool = new BufferPool(gpu.device, new GpuMemory());
    const a = pool.acquire(1000);
    expect(a.size).toBe(1024);
    pool.release(a);
    const b = pool.acquire(900);
    expect(b).toBe(a);
    expect(pool.created).toBe(1);
    pool.clear();
  });

  it("a recorder's released temporaries serve its own later acquires, and reach the pool only at submit", () => {
    const r = new Recorder(gpu);
    const a = r.acquire(3000, 'temporary');
    expect(gpu.pool.bytesOf(a)).toBe(3000);
    r.release(a);
    // Nothing outside the recording gets it before submission (a writeBuffer would land before its commands).
    const other = gpu.pool.acquire(3000);
    expect(other).not.toBe(a);
    // Within the recording the same size class gets it back, with the new size on record.
    const b = r.acquire(2500, 'temporary');
    expect(b).toBe(a);
    expect(gpu.pool.bytesOf(b)).toBe(2500);
    r.release(b);
    r.submit();
    expect(gpu.pool.acquire(3000)).toBe(a);
    gpu.pool.release(a);
    gpu.pool.release(other);
  });

  it('turns a validation error into a GpuError at the next sync', async () => {
    const tiny = gpu.device.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE });
    const enc = gpu.device.createCommandEncoder();
    // Copying from a buffer without COPY_SRC usage is a validation error.
    enc.copyBufferToBuffer(tiny, 0, tiny, 0, 4);
    gpu.device.queue.submit([enc.finish()]);
    await expect(gpu.sync()).rejects.toBeInstanceOf(GpuError);
    await gpu.sync(); // the error is reported once
  });

  it('times recorded work with a positive duration', async () => {
    const n = 1 << 16;
    const xb = gpu.upload(new Float32Array(n).fill(1));
    const yb = gpu.upload(new Float32Array(n));
    const ms = await timeRecorded(gpu, (r) => axpy(r, n, 2, xb, yb));
    expect(ms).toBeGreaterThan(0);
    expect((await gpu.readF32(yb, 1))[0]).toBe(2);
  });

  it('ser doctor --list probes every installed Vulkan driver alone and marks the one this process runs on', async () => {
    const [json, text] = await Promise.all([runSer(['doctor', '--list', '--json']), runSer(['doctor', '--list'])]);
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as { drivers: DriverProbe[] };
    console.log(out.drivers.map((d) => `${d.inUse ? '*' : ' '} ${d.path}: ${d.adapters.map((a) => a.description).join('; ') || d.error || 'no adapter'}`).join('\n'));
    expect(out.drivers.map((d) => d.path).sort()).toEqual(vulkanIcds().map((d) => d.path).sort());
    // This process got its driver the same way the child did (VK_ICD_FILENAMES is inherited), so it is the one marked.
    const used = out.drivers.filter((d) => d.inUse);
    expect(used.flatMap((d) => d.adapters.map((a) => a.description))).toContain(gpu.summary.description);
    const swiftshader = swiftshaderManifest();
    if (swiftshader) {
      const d = out.drivers.find((p) => p.path === swiftshader);
      expect(d?.adapters.map((a) => a.architecture)).toEqual(['swiftshader']);
      expect(d?.onSearchPath).toBe(false);
    } else {
      console.log('SwiftShader is not installed here (bash scripts/setup-swiftshader.sh), so not checked');
    }
    expect(text.code, text.stderr).toBe(0);
    const marked = text.stdout.split('\n').filter((l) => l.startsWith('* '));
    expect(marked.some((l) => l.includes(gpu.summary.description))).toBe(true);
    if (out.drivers.some((d) => !d.inUse && d.adapters.length > 0)) expect(text.stdout).toMatch(/VK_ICD_FILENAMES=\S+\.json ser doctor/);
  });
});
