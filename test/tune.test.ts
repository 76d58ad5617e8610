// `ser tune`'s machinery: candidates probed against the portable kernel and timed, the
// winner filed per layer shape and used by dispatches that ask for no kernel, the
// cache per adapter and shader version, and the network's layer shapes it tunes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { conv3dBackwardInput, conv3dBackwardWeight, conv3dForward, conv3dOutShape, conv3dTuneKey, type Conv3dShape } from '../src/kernels/conv3d.js';
import { conv3dCandidates, tuneConv3d } from '../src/kernels/conv3d_tune.js';
import { loadConv3dTuning, saveConv3dTuning, tuneNetwork } from '../src/kernels/tune-cache.js';
import { convLayerShapes } from '../src/model/architecture.js';
import { Ser3dCnn } from '../src/model/ser3dcnn.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dForwardRef } from '../src/ref/conv3d.js';
import { conv3dTolFor } from '../src/kernels/tolerances.js';
import { expectClose, makeRng, uniform } from './util/check.js';

const gpu = await getGpu();
afterEach(() => gpu.conv3dTuning.clear());

const S: Conv3dShape = { n: 2, d: 2, h: 9, w: 7, cin: 8, cout: 12, kd: 1, kh: 3, kw: 3, padding: 'same' };
const tmp = (): string => join(mkdtempSync(join(tmpdir(), 'ser-tune-')), 'tuning.json');

describe('tuneConv3d', () => {
  it('probes and times every candidate, files the fastest, and an untuned dispatch then runs it with reference results', async () => {
    const r = await tuneConv3d(gpu, 'forward', S, { repeats: 1 });
    const kinds = new Set(r.candidates.map((c) => c.options.kernel));
    expect(kinds).toContain('direct');
    expect(kinds).toContain('tiled');
    if (gpu.features.shuffle8) expect(kinds).toContain('subgroup');
    for (const c of r.candidates) expect(c.ms, `${c.label}: ${c.error}`).toBeGreaterThan(0);
    const fastest = Math.min(...r.candidates.map((c) => c.ms!));
    expect(r.winner.ms).toBe(fastest);
    expect(gpu.conv3dTuning.get(conv3dTuneKey('forward', S))).toEqual(r.winner.options);

    // A dispatch that asks for no kernel runs the filed choice: each kind in turn, so
    // the check does not depend on which one won here.
    const rng = makeRng(7);
    const x = uniform(rng, S.n * S.d * S.h * S.w * S.cin);
    const w = uniform(rng, 9 * S.cin * S.cout);
    const [xb, wb] = [gpu.upload(x), gpu.upload(w)];
    const yLen = conv3dOutShape(S).reduce((a, b) => a * b, 1);
    const yb = gpu.upload(new Float32Array(yLen));
    const want = conv3dForwardRef(x, w, new Float32Array(S.cout), S);
    const shaderOf = { subgroup: 'conv3d_forward_subgroup', direct: 'conv3d_forward', tiled: 'conv3d_forward_tiled', rows: 'conv3d_forward_rows', winograd: 'conv3d_winograd_input' };
    for (const c of r.candidates) {
      gpu.conv3dTuning.set(conv3dTuneKey('forward', S), c.options);
      const pipeline = vi.spyOn(gpu, 'pipeline');
      run(gpu, (rec) => conv3dForward(rec, yb, xb, wb, null, S));
      const shaders = pipeline.mock.calls.map(([shader]) => shader);
      pipeline.mockRestore();
      // Winograd: three transforms around (m + 2)² GEMMs, m the tile filed.
      if (c.options.kernel === 'winograd') {
        expect(shaders, c.label).toContain(shaderOf.winograd);
        expect(shaders.length, c.label).toBe(3 + (c.options.winograd!.tile + 2) ** 2);
      }
      else expect(shaders, c.label).toEqual([shaderOf[c.options.kernel!]]);
      expectClose(`forward filed as ${c.label}`, await gpu.readF32(yb, yLen), want, conv3dTolFor(c.options).forward);
    }
    for (const b of [xb, wb, yb]) b.destroy();
  });

  it('backward_input: the tuned choice accumulates into dx like the reference', async () => {
    const r = await tuneConv3d(gpu, 'backward_input', S, { repeats: 1 });
    expect(r.candidates.every((c) => c.ms !== null)).toBe(true);
    const rng = makeRng(8);
    const dy = uniform(rng, conv3dOutShape(S).reduce((a, b) => a * b, 1));
    const w = uniform(rng, 9 * S.cin * S.cout);
    const dxLen = S.n * S.d * S.h * S.w * S.cin;
    const [dyb, wb, dxb] = [gpu.upload(dy), gpu.upload(w), gpu.upload(new Float32Array(dxLen).fill(1))];
    run(gpu, (rec) => conv3dBackwardInput(rec, dxb, dyb, wb, S));
    const want = conv3dBackwardInputRef(dy, w, S).map((v) => v + 1);
    const filed = gpu.conv3dTuning.get(conv3dTuneKey('backward_input', S));
    expectClose(`tuned backward_input (${r.winner.label})`, await gpu.readF32(dxb, dxLen), want, conv3dTolFor(filed).backward_input);
    for (const b of [dyb, wb, dxb]) b.destroy();
  });

  it('backward_weight: every candidate (Winograd included) is timed, and the tuned choice accumulates into dw and db like the reference', async () => {
    const r = await tuneConv3d(gpu, 'backward_weight', S, { repeats: 1 });
    expect(r.candidates.map((c) => c.label)).toEqual(expect.arrayContaining(['winograd F2', 'winograd F4', 'direct']));
    expect(r.candidates.every((c) => c.ms !== null)).toBe(true);
    const rng = makeRng(9);
    const dy = uniform(rng, conv3dOutShape(S).reduce((a, b) => a * b, 1));
    const x = uniform(rng, S.n * S.d * S.h * S.w * S.cin);
    const wLen = 9 * S.cin * S.cout;
    const ref = conv3dBackwardWeightRef(dy, x, S);
    for (const c of r.candidates) {
      gpu.conv3dTuning.set(conv3dTuneKey('backward_weight', S), c.options);
      const [dyb, xb, dwb, dbb] = [gpu.upload(dy), gpu.upload(x), gpu.upload(new Float32Array(wLen).fill(1)), gpu.upload(new Float32Array(S.cout).fill(1))];
      const pipeline = vi.spyOn(gpu, 'pipeline');
      run(gpu, (rec) => conv3dBackwardWeight(rec, dwb, dbb, dyb, xb, S));
      const shaders = pipeline.mock.calls.map(([shader]) => shader);
      pipeline.mockRestore();
      if (c.options.kernel === 'winograd') expect(shaders, c.label).toContain('conv3d_winograd_dw');
      else expect(shaders, c.label).not.toContain('conv3d_winograd_dw');
      const tol = conv3dTolFor(c.options);
      expectClose(`dw filed as ${c.label}`, await gpu.readF32(dwb, wLen), ref.dw.map((v) => v + 1), tol.backward_weight);
      expectClose(`db filed as ${c.label}`, await gpu.readF32(dbb, S.cout), ref.db.map((v) => v + 1), tol.backward_bias);
      for (const b of [dyb, xb, dwb, dbb]) b.destroy();
    }
  });

  it('a candidate that fails is recorded with its reason and never chosen; none passing is an error', async () => {
    const broken = { label: 'tiled too big', options: { kernel: 'tiled' as const, tiled: { bm: 4096, bn: 64, bk: 64, tm: 4, tn: 4 } } };
    const r = await tuneConv3d(gpu, 'forward', S, { repeats: 1, candidates: [broken, { label: 'direct', options: { kernel: 'direct' } }] });
    const failed = r.candidates.find((c) => c.label === 'tiled too big')!;
    expect(failed.ms).toBeNull();
    expect(failed.error).toMatch(/blocking|workgroup/);
    expect(r.winner.label).toBe('direct');
    await expect(tuneConv3d(gpu, 'forward', S, { repeats: 1, candidates: [broken] })).rejects.toThrow(/no conv3d kernel passed its probe/);
  });

  it('narrow layers get the narrow channel blocks among the candidates', () => {
    const labels = conv3dCandidates(gpu, 'forward', { ...S, cout: 8 }).map((c) => c.label);
    if (gpu.features.shuffle8) {
      expect(labels.some((l) => l.startsWith('subgroup cv2'))).toBe(true);
      expect(labels.some((l) => l.startsWith('subgroup cv8'))).toBe(true);
    }
    expect(labels.some((l) => l.startsWith('tiled'))).toBe(true);
  });
});

describe('tuning cache', () => {
  it('saves per adapter and loads back; another shader version or a damaged file loads nothing', async () => {
    const path = tmp();
    const results = await tuneNetwork(gpu, [S], { repeats: 1, path });
    expect(results.map((r) => r.key)).toEqual([conv3dTuneKey('forward', S), conv3dTuneKey('backward_input', S), conv3dTuneKey('backward_weight', S)]);
    const chosen = new Map(gpu.conv3dTuning);
    gpu.conv3dTuning.clear();
    expect(loadConv3dTuning(gpu, path)).toBe(3);
    expect(new Map(gpu.conv3dTuning)).toEqual(chosen);

    // A change to any tuned shader, the rows and Winograd ones included, is tuned afresh.
    const source = gpu.shaderSource;
    for (const name of ['conv3d_forward_subgroup', 'conv3d_forward_rows', 'conv3d_winograd_input']) {
      const changed = vi.spyOn(gpu, 'shaderSource').mockImplementation((n) => `${source(n)}${n === name ? '\n// changed\n' : ''}`);
      gpu.conv3dTuning.clear();
      expect(loadConv3dTuning(gpu, path), name).toBe(0);
      changed.mockRestore();
    }
    expect(loadConv3dTuning(gpu, path)).toBe(3);

    // Tuned shapes are skipped unless forced.
    expect(await tuneNetwork(gpu, [S], { repeats: 1, path })).toEqual([]);

    const file = JSON.parse(readFileSync(path, 'utf8')) as { adapters: Record<string, { shaders: string }> };
    for (const entry of Object.values(file.adapters)) entry.shaders = 'another-version';
    writeFileSync(path, JSON.stringify(file));
    gpu.conv3dTuning.clear();
    expect(loadConv3dTuning(gpu, path)).toBe(0);

    writeFileSync(path, '{ not json');
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(loadConv3dTuning(gpu, path)).toBe(0);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/unreadable tuning cache/);
    warn.mockRestore();
    // Saving over a damaged file starts it afresh.
    saveConv3dTuning(gpu, results, path);
    gpu.conv3dTuning.clear();
    expect(loadConv3dTuning(gpu, path)).toBe(3);
  });
});

describe('convLayerShapes', () => {
  it("are the model's convolutions: kernel shapes of its parameters, spatial sizes halved by each pooling", () => {
    const model = new Ser3dCnn(gpu, { classes: ['a', 'b', 'c'], input: [3, 128, 60, 1], width: 0.25 });
    const shapes = convLayerShapes([3, 128, 60, 1], 0.25, 8);
    const kernels = model.namedTensors().filter((t) => /^conv\d\.kernel$/.test(t.name));
    expect(shapes.map((s) => [s.kd, s.kh, s.kw, s.cin, s.cout])).toEqual(kernels.map((t) => t.shape));
    expect(shapes.map((s) => [s.n, s.d, s.h, s.w])).toEqual([
      [8, 3, 128, 60],
      [8, 3, 64, 30],
      [8, 3, 32, 15],
      [8, 3, 16, 7],
      [8, 3, 8, 3],
    ]);
  });
});
