// The GPU memory count (src/kernels/memory.ts): bytes of the buffers alive and their
// high-water mark, as `ser bench` reports them for a training step.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getGpu, BufferPool, GpuMemory } from '../src/kernels/gpu.js';
import { Ser3dCnn } from '../src/model/ser3dcnn.js';
import { Engine } from '../src/train/engine.js';
import { CLASS_NAMES } from '../src/data/sources.js';

const gpu = await getGpu();

describe('GPU memory accounting', () => {
  it('counts uploads and pooled buffers at their sizes, subtracts each once on destroy, and keeps the high-water mark', async () => {
    const mem = gpu.memory;
    const base = mem.live;
    const buffers = mem.buffers;
    mem.resetPeak();
    expect(mem.peak).toBe(base);

    // 1000 floats: 4000 bytes, already a multiple of 16; 3 floats pad to the 16-byte minimum.
    const a = gpu.upload(new Float32Array(1000));
    const b = gpu.upload(new Float32Array(3));
    expect(a.size).toBe(4000);
    expect(b.size).toBe(16);
    expect(mem.live - base).toBe(4016);
    expect(mem.buffers - buffers).toBe(2);

    // The pool creates at the power-of-two size class (5000 → 8192) and counts that.
    const p = gpu.pool.acquire(5000, 'memory test');
    expect(p.size).toBe(8192);
    expect(mem.live - base).toBe(4016 + 8192);
    // Releasing keeps it alive (the pool holds it); acquiring it again creates nothing.
    gpu.pool.release(p);
    expect(gpu.pool.acquire(6000, 'memory test')).toBe(p);
    expect(mem.live - base).toBe(4016 + 8192);

    // A readback's staging buffer is counted too (MAP_READ, size class of 4000 bytes).
    await gpu.readF32(a, 1000);
    const staged = mem.live - base - (4016 + 8192);
    expect(staged === 0 || staged === 4096, `staging ${staged} bytes`).toBe(true);
    const peakAll = mem.live;
    expect(mem.peak).toBe(peakAll);

    a.destroy();
    a.destroy(); // legal WebGPU; must not count twice
    expect(mem.live).toBe(peakAll - 4000);
    p.destroy();
    b.destroy();
    expect(mem.live).toBe(base + staged);
    expect(mem.buffers - buffers).toBe(staged ? 1 : 0);
    // The mark stays at the high point until reset.
    expect(mem.peak).toBe(peakAll);
    mem.resetPeak();
    expect(mem.peak).toBe(mem.live);
  });

  it('a pool with its own count sees only its buffers, and clear() gives their bytes back', () => {
    const mem = new GpuMemory();
    const pool = new BufferPool(gpu.device, mem);
    const x = pool.acquire(100);
    const y = pool.acquire(300);
    expect([x.size, y.size]).toEqual([256, 512]);
    expect(mem.live).toBe(768);
    pool.release(x);
    pool.release(y);
    pool.clear();
    expect(mem.live).toBe(0);
    expect(mem.peak).toBe(768);
  });

  it("a training step's engine and model give back every byte they hold when disposed", async () => {
    // The first lifetime may leave buffers every later step shares (uniform arenas, readback staging); the second must leave none.
    const kept: number[] = [];
    for (let round = 0; round < 2; round++) {
      gpu.pool.clear();
      const before = gpu.memory.live;
      const model = new Ser3dCnn(gpu, { classes: [...CLASS_NAMES], input: [2, 16, 16, 1], width: 0.05 }, 0);
      const engine = new Engine(gpu, model, 2, new Float32Array(CLASS_NAMES.length).fill(1), 2);
      const weights = model.parameterCount * 4;
      // Parameters, their gradients and Adam's two moments: at least 4 × the weights.
      const held = gpu.memory.live - before;
      expect(held).toBeGreaterThanOrEqual(4 * weights);
      gpu.memory.resetPeak();
      await engine.trainStep(new Float32Array(2 * 2 * 16 * 16).fill(0.5), Uint32Array.from([0, 1]));
      // The step's activations and gradients come on top, and stay pooled after it.
      expect(gpu.memory.peak).toBeGreaterThan(before + held);
      expect(gpu.memory.live).toBeGreaterThan(before + held);
      engine.dispose();
      model.dispose();
      gpu.pool.clear();
      kept.push(gpu.memory.live - before);
    }
    console.log(`bytes kept after dispose: ${kept.join(', ')} (first lifetime, second)`);
    expect(kept[1]).toBe(0);
  });

  it('every buffer the project creates goes through Gpu.createBuffer (or the pool), so none escapes the count', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts') && !path.endsWith(join('kernels', 'gpu-core.ts')) && !path.endsWith(join('kernels', 'pool.ts'))) {
          readFileSync(path, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (/device\.createBuffer\(/.test(line)) offenders.push(`${path}:${i + 1}`);
            });
        }
      }
    };
    walk(join(import.meta.dirname, '..', 'src'));
    expect(offenders).toEqual([]);
  });
});
