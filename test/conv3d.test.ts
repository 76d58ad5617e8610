import { describe, expect, it, vi } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import {
  conv3dBackwardInput,
  conv3dBackwardWeight,
  conv3dForward,
  conv3dOutShape,
  CONV3D_WEIGHT_SUBGROUP_BLOCK,
  conv3dKernel,
  conv3dPlan,
  conv3dWeightSplits,
  winogradApplies,
  weightRowsApplies,
  type Conv3dKernel,
  type Conv3dOptions,
  type Conv3dShape,
} from '../src/kernels/conv3d.js';
import { conv3dBackwardInputRef, conv3dBackwardWeightRef, conv3dForwardRef } from '../src/ref/conv3d.js';
import { CONV3D_TOL, conv3dTolFor } from '../src/kernels/tolerances.js';
import { dot, expectClose, expectGradient, makeRng, uniform } from './util/check.js';

const gpu = await getGpu();

/** |gpu - ref| <= atol + rtol·|ref|, per direction (src/kernels/tolerances.ts says why each). */
const TOL = {
  ...CONV3D_TOL,
  /** The float64 reference's gradients against central differences (step 1e-6). */
  refGradient: { atol: 1e-7, rtol: 1e-6 },
} as const;

/** n values in [-1, 1) from `seed`. */
const random = (n: number, seed: number): Float32Array => uniform(makeRng(seed), n);

const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

const sh = (n: number, d: number, h: number, w: number, cin: number, cout: number, k: [number, number, number], padding: 'same' | 'valid'): Conv3dShape => ({
  n, d, h, w, cin, cout, kd: k[0], kh: k[1], kw: k[2], padding,
});

/**
 * Most cases use the shipped blockings, so the file compiles the same few pipelines
 * as training (each costs seconds on a CPU driver); one case uses small blockings
 * so that a small shape spans many position and channel blocks.
 */
const SMALL: Conv3dOptions = { direct: { wg: 8, tp: 2, tn: 4 }, subgroup: { wg: 8, tp: 1 }, tiled: { bm: 16, bn: 8, bk: 8, tm: 4, tn: 4 }, rows: { wg: 8, tw: 3, cv: 2 } };

interface Case {
  name: string;
  s: Conv3dShape;
  /** Blocking of the forward and backward_input kernels. */
  tiles?: Conv3dOptions;
}

const CASES: Case[] = [
  { name: 'first layer: Cin 1, 1×5×5, same', s: sh(2, 3, 11, 9, 1, 8, [1, 5, 5], 'same') },
  { name: 'batch 1, 1×3×3, odd channels 3→5, valid', s: sh(1, 2, 7, 6, 3, 5, [1, 3, 3], 'valid') },
  { name: '3×3×3 (kd > 1), channels 7→7, same', s: sh(2, 4, 5, 6, 7, 7, [3, 3, 3], 'same') },
  { name: '1×1 spatial, 1×1×1 kernel, channels 5→3', s: sh(3, 1, 1, 1, 5, 3, [1, 1, 1], 'same') },
  { name: '1×1 spatial with a 1×3×3 kernel (all but the centre tap padded)', s: sh(2, 1, 1, 1, 8, 12, [1, 3, 3], 'same') },
  { name: 'vec4 paths: channels 8→12, 1×3×3, same', s: sh(2, 3, 6, 5, 8, 12, [1, 3, 3], 'same') },
  { name: 'even kernel 2×2×2, same (pads 0 before, 1 after)', s: sh(2, 3, 4, 5, 4, 6, [2, 2, 2], 'same') },
  { name: '3×3×3 valid, channels 4→8', s: sh(1, 4, 5, 6, 4, 8, [3, 3, 3], 'valid') },
  {
    name: 'sizes not multiples of a small blocking (many position and channel blocks, partial last ones)',
    s: sh(2, 2, 9, 7, 12, 20, [1, 3, 3], 'same'),
    tiles: SMALL,
  },
  {
    name: 'narrow channel blocks (CV 2: 8 channels per block) over several blocks, partial last ones',
    s: sh(2, 2, 9, 7, 12, 20, [1, 3, 3], 'same'),
    tiles: { ...SMALL, subgroup: { wg: 8, tp: 3, cv: 2 } },
  },
  {
    name: 'vec4 input rows over several row and channel blocks: 8→20, 1×3×3, width not a multiple of the row block',
    s: sh(2, 2, 9, 11, 8, 20, [1, 3, 3], 'same'),
    tiles: { ...SMALL, rows: { wg: 8, tw: 6, cv: 4 } },
  },
  {
    name: 'one input channel over several row and channel blocks: 1→20, 1×5×5, width not a multiple of the row block',
    s: sh(2, 2, 9, 11, 1, 20, [1, 5, 5], 'same'),
    tiles: SMALL,
  },
  {
    name: 'one input channel, the longest rows run (64 accumulators: 2 channel groups × 32 positions) over a row of 37, 1→8, 1×5×5',
    s: sh(2, 1, 6, 37, 1, 8, [1, 5, 5], 'same'),
    tiles: { ...SMALL, rows: { wg: 8, tw: 32, cv: 2 } },
  },
  { name: '1×3×3 valid, channels 4→8, odd height and width (partial Winograd tiles)', s: sh(2, 2, 7, 9, 4, 8, [1, 3, 3], 'valid') },
  { name: '1×3×3 same, channels 8→4, batch 3, odd sizes', s: sh(3, 1, 5, 3, 8, 4, [1, 3, 3], 'same') },
  { name: 'one input channel, 3×3×3 valid, 1→12', s: sh(1, 4, 6, 7, 1, 12, [3, 3, 3], 'valid') },
  { name: 'one input channel, output channels not a multiple of 4 (scalar dY loads): 1→6, 1×3×3, same', s: sh(2, 2, 5, 9, 1, 6, [1, 3, 3], 'same') },
  { name: 'scalar loads, channels 3→70 (several channel blocks, rows of backward_weight not multiples of 4)', s: sh(1, 2, 6, 7, 3, 70, [1, 3, 3], 'same') },
  { name: 'report block-2 shape scaled down: 16→32 channels, 1×3×3, positions past one forward block', s: sh(2, 3, 16, 7, 16, 32, [1, 3, 3], 'same') },
  { name: 'channels 36→40: a partial second block of 32 channels, rows of backward_weight past one 32-row tile', s: sh(1, 2, 5, 6, 36, 40, [1, 3, 3], 'same') },
];

// Both sets of kernels run here when the device has 8-lane subgroups (lavapipe does);
// SwiftShader's 4-lane subgroups leave only the direct kernels.
// The tiled implicit GEMMs (a `ser tune` candidate) run everywhere; asked for them,
// backward_weight runs the device's default.
// So do the rows kernels where they apply (forward, and backward_input as a forward of
// dy with the flipped kernel where it overwrites dx: kernels at most 7 wide, 8-lane
// shuffles, any number of channels, scalar or vec4 windows; backward_weight: one input
// channel, at most 31 taps, any device); elsewhere asking for them runs the default.
// Winograd runs where it applies (1×3×3 kernels, channels in fours), elsewhere the
// default; in both tile sizes, F(2×2, 3×3) and F(4×4, 3×3).
const KERNELS: Conv3dKernel[] = gpu.features.shuffle8 ? ['subgroup', 'direct', 'tiled', 'rows', 'winograd'] : ['direct', 'tiled', 'rows', 'winograd'];
type Variant = { label: string; kernel: Conv3dKernel; options: Conv3dOptions };
const VARIANTS = KERNELS.flatMap((kernel): Variant[] =>
  kernel === 'winograd'
    ? ([2, 4] as const).map((tile) => ({ label: `winograd F(${tile}×${tile}, 3×3)`, kernel, options: { kernel, winograd: { tile } } }))
    : [{ label: kernel, kernel, options: { kernel } }],
);
const SHADERS: Record<Conv3dKernel, string[]> = {
  subgroup: ['conv3d_forward_subgroup', 'conv3d_backward_input_subgroup', 'conv3d_backward_weight_subgroup'],
  direct: ['conv3d_forward', 'conv3d_backward_input', 'conv3d_backward_weight'],
  tiled: ['conv3d_forward_tiled', 'conv3d_backward_input_tiled'],
  rows: ['conv3d_forward_rows', 'conv3d_flip_weights', 'conv3d_backward_weight_rows'],
  winograd: ['conv3d_winograd_weights', 'conv3d_winograd_input', 'conv3d_winograd_output', 'conv3d_winograd_dy', 'conv3d_winograd_dw'],
};

it('called without a kernel option, every direction dispatches the subgroup shaders exactly where the probe found 8-lane shuffles', () => {
  console.log(`subgroups: ${gpu.features.subgroups}, shuffle8: ${gpu.features.shuffle8}`);
  // Every dispatch asks the pipeline cache for its shader by name, cached or not.
  const pipeline = vi.spyOn(gpu, 'pipeline');
  const s = sh(1, 1, 2, 2, 4, 4, [1, 1, 1], 'same');
  const owned: GPUBuffer[] = [];
  const buf = (): GPUBuffer => {
    owned.push(gpu.upload(new Float32Array(16)));
    return owned[owned.length - 1]!;
  };
  let ran = new Set<string>();
  try {
    run(gpu, (r) => {
      conv3dForward(r, buf(), buf(), buf(), null, s);
      conv3dBackwardInput(r, buf(), buf(), buf(), s);
      conv3dBackwardWeight(r, buf(), buf(), buf(), buf(), s);
    });
    ran = new Set(pipeline.mock.calls.map(([shader]) => shader));
  } finally {
    pipeline.mockRestore();
  }
  const expected: Conv3dKernel = gpu.features.shuffle8 ? 'subgroup' : 'direct';
  for (const shader of SHADERS[expected]) expect(ran, `${shader} did not run`).toContain(shader);
  for (const other of Object.keys(SHADERS).filter((k) => k !== expected) as Conv3dKernel[]) {
    for (const shader of SHADERS[other]) expect(ran, `${shader} ran`).not.toContain(shader);
  }
  if (!gpu.features.shuffle8) expect(() => run(gpu, (r) => conv3dForward(r, buf(), buf(), buf(), null, s, { kernel: 'subgroup' }))).toThrow(/subgroup/);
  for (const b of owned) b.destroy();
});

it('Winograd asked for where it cannot run (a 5×5 kernel, channels not in fours, a tile neither 2 nor 4) runs the default kernel', () => {
  const fallback = conv3dKernel(gpu);
  const ok = sh(1, 1, 8, 8, 4, 8, [1, 3, 3], 'same');
  expect(conv3dPlan(gpu, 'forward', ok, { kernel: 'winograd', winograd: { tile: 4 } }).kernel).toBe('winograd');
  expect(conv3dPlan(gpu, 'backward_weight', ok, { kernel: 'winograd' }).kernel).toBe('winograd');
  expect(conv3dPlan(gpu, 'forward', sh(1, 1, 8, 8, 4, 8, [1, 5, 5], 'same'), { kernel: 'winograd' }).kernel).toBe(fallback);
  expect(conv3dPlan(gpu, 'backward_weight', sh(1, 1, 8, 8, 3, 8, [1, 3, 3], 'same'), { kernel: 'winograd' }).kernel).toBe(fallback);
  // As a damaged tuning cache could file it.
  const odd = { kernel: 'winograd', winograd: { tile: 3 } } as unknown as Conv3dOptions;
  for (const pass of ['forward', 'backward_input', 'backward_weight'] as const) expect(conv3dPlan(gpu, pass, ok, odd).kernel, pass).toBe(fallback);
});

/** A 1×3×3 layer Winograd applies to, its random x, w and dy (seeds from `seed`) and their GPU copies. */
function winogradLayer(seed: number) {
  const s = sh(2, 2, 9, 7, 8, 12, [1, 3, 3], 'same');
  const x = random(size([s.n, s.d, s.h, s.w, s.cin]), seed);
  const w = random(9 * s.cin * s.cout, seed + 1);
  const dy = random(size(conv3dOutShape(s)), seed + 2);
  return { s, x, w, dy, yLen: size(conv3dOutShape(s)), xb: gpu.upload(x), wb: gpu.upload(w), dyb: gpu.upload(dy) };
}

it('Winograd reuses its temporaries within the recording: a second forward and backward_weight in the same step create no buffers, and all are right', async () => {
  const { s, x, w, dy, yLen, xb, wb, dyb } = winogradLayer(21);
  const ys = [0, 1].map(() => gpu.upload(new Float32Array(yLen).fill(NaN)));
  const dws = [0, 1].map(() => gpu.upload(new Float32Array(w.length)));
  const dbs = [0, 1].map(() => gpu.upload(new Float32Array(s.cout)));
  const o: Conv3dOptions = { kernel: 'winograd', winograd: { tile: 4 } };
  gpu.pool.clear();
  const created = [gpu.pool.created];
  const pipeline = vi.spyOn(gpu, 'pipeline');
  try {
    run(gpu, (r) => {
      for (const i of [0, 1]) {
        conv3dForward(r, ys[i]!, xb, wb, null, s, o);
        conv3dBackwardWeight(r, dws[i]!, dbs[i]!, dyb, xb, s, o);
        created.push(gpu.pool.created);
      }
    });
    const ran = new Set(pipeline.mock.calls.map(([shader]) => shader));
    for (const shader of ['conv3d_winograd_input', 'conv3d_winograd_output', 'conv3d_winograd_dy', 'conv3d_winograd_dw']) expect(ran, shader).toContain(shader);
  } finally {
    pipeline.mockRestore();
  }
  expect(created[1], 'buffers created by the first forward and backward_weight').toBeGreaterThan(created[0]!);
  expect(created[2], 'buffers created by the second').toBe(created[1]);
  const tol = conv3dTolFor(o);
  const want = conv3dForwardRef(x, w, null, s);
  const ref = conv3dBackwardWeightRef(dy, x, s);
  for (const i of [0, 1]) {
    expectClose(`forward ${i}`, await gpu.readF32(ys[i]!, yLen), want, tol.forward);
    expectClose(`backward_weight ${i}`, await gpu.readF32(dws[i]!, w.length), ref.dw, tol.backward_weight);
    expectClose(`backward_bias ${i}`, await gpu.readF32(dbs[i]!, s.cout), ref.db, tol.backward_bias);
  }
  for (const b of [xb, wb, dyb, ...ys, ...dws, ...dbs]) b.destroy();
});

it('a forward keeps its Winograd input for backward_weight of the same tile, which then skips its input transform and gets the same gradients', async () => {
  const { s, x, w, dy, yLen, xb, wb, dyb } = winogradLayer(31);
  const ref = conv3dBackwardWeightRef(dy, x, s);
  const winograd = (tile: 2 | 4): Conv3dOptions => ({ kernel: 'winograd', winograd: { tile } });
  /** backward_weight after a forward asked to keep its input for `weights`: dw, db, what was kept, and how many input transforms ran. */
  const pass = async (forward: Conv3dOptions, weights: Conv3dOptions, keep: boolean) => {
    const bufs = [gpu.upload(new Float32Array(yLen)), gpu.upload(new Float32Array(w.length)), gpu.upload(new Float32Array(s.cout))];
    const [yb, dwb, dbb] = bufs as [GPUBuffer, GPUBuffer, GPUBuffer];
    const pipeline = vi.spyOn(gpu, 'pipeline');
    let kept: ReturnType<typeof conv3dForward> = null;
    try {
      run(gpu, (r) => {
        kept = conv3dForward(r, yb, xb, wb, null, s, forward, keep ? { alloc: (bytes) => (bufs.push(gpu.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE })), bufs[bufs.length - 1]!), weights } : undefined);
        conv3dBackwardWeight(r, dwb, dbb, dyb, xb, s, weights, kept);
      });
      const transforms = pipeline.mock.calls.filter(([shader]) => shader === 'conv3d_winograd_input').length;
      const out = { dw: await gpu.readF32(dwb, w.length), db: await gpu.readF32(dbb, s.cout), kept: kept as { tile: number } | null, transforms };
      return out;
    } finally {
      pipeline.mockRestore();
      for (const b of bufs) b.destroy();
    }
  };
  for (const tile of [2, 4] as const) {
    const reused = await pass(winograd(tile), winograd(tile), true);
    const own = await pass(winograd(tile), winograd(tile), false);
    expect(reused.kept?.tile, `F(${tile}) kept`).toBe(tile);
    expect(reused.transforms, `F(${tile}): the forward's input transform only`).toBe(1);
    expect(own.kept, `F(${tile}) not asked to keep`).toBeNull();
    expect(own.transforms, `F(${tile}): forward and backward_weight each transform x`).toBe(2);
    // The same V, so the same GEMMs: bit for bit the gradients of backward_weight's own transform.
    expect(Array.from(reused.dw), `F(${tile}) dw`).toEqual(Array.from(own.dw));
    expect(Array.from(reused.db), `F(${tile}) db`).toEqual(Array.from(own.db));
    const tol = conv3dTolFor(winograd(tile));
    expectClose(`F(${tile}) backward_weight`, reused.dw, ref.dw, tol.backward_weight);
    expectClose(`F(${tile}) backward_bias`, reused.db, ref.db, tol.backward_bias);
  }
  // Other tiles, or backward_weight on another kernel: nothing is kept, and backward_weight transforms x itself where it needs to.
  const mixed = await pass(winograd(4), winograd(2), true);
  expect(mixed.kept).toBeNull();
  expect(mixed.transforms).toBe(2);
  expectClose('F(4) forward, F(2) backward_weight', mixed.dw, ref.dw, conv3dTolFor(winograd(4)).backward_weight);
  const other = await pass(winograd(4), { kernel: 'direct' }, true);
  expect(other.kept).toBeNull();
  expect(other.transforms).toBe(1);
  expectClose('F(4) forward, direct backward_weight', other.dw, ref.dw, TOL.backward_weight);
  for (const b of [xb, wb, dyb]) b.destroy();
});

it('called without a kernel option, a layer with one input channel runs the rows forward where 8-lane shuffles exist and the rows backward_weight everywhere', () => {
  const pipeline = vi.spyOn(gpu, 'pipeline');
  const bufs = [0, 1, 2, 3].map(() => gpu.upload(new Float32Array(16)));
  try {
    run(gpu, (r) => conv3dForward(r, bufs[0]!, bufs[1]!, bufs[2]!, null, sh(1, 1, 2, 2, 1, 4, [1, 1, 1], 'same')));
    expect(pipeline.mock.calls.map(([shader]) => shader)).toEqual([gpu.features.shuffle8 ? 'conv3d_forward_rows' : 'conv3d_forward']);
    pipeline.mockClear();
    run(gpu, (r) => conv3dBackwardWeight(r, bufs[0]!, bufs[1]!, bufs[2]!, bufs[3]!, sh(1, 1, 2, 2, 1, 4, [1, 1, 1], 'same')));
    expect(pipeline.mock.calls.map(([shader]) => shader)).toEqual(['conv3d_backward_weight_rows', 'conv3d_backward_reduce', 'conv3d_backward_reduce']);
    // Past 31 taps (a 7×7 kernel) the accumulators do not fit: the device's default.
    expect(conv3dPlan(gpu, 'backward_weight', sh(1, 1, 9, 9, 1, 4, [1, 7, 7], 'same')).kernel).toBe(conv3dKernel(gpu));
    expect(conv3dPlan(gpu, 'backward_weight', sh(1, 1, 9, 9, 2, 4, [1, 3, 3], 'same'), { kernel: 'rows' }).kernel).toBe(conv3dKernel(gpu));
  } finally {
    pipeline.mockRestore();
    for (const b of bufs) b.destroy();
  }
});

for (const { label, kernel, options } of VARIANTS) describe(`conv3d ${label} kernels on the GPU vs the float64 reference`, () => {
  // Winograd F(4×4, 3×3) rounds more (tolerances.ts says why).
  const tol = { ...TOL, ...conv3dTolFor(options) };
  for (const { name, s, tiles } of CASES) {
    it(name, async () => {
      const yShape = conv3dOutShape(s);
      const x = random(size([s.n, s.d, s.h, s.w, s.cin]), 1);
      const w = random(s.kd * s.kh * s.kw * s.cin * s.cout, 2);
      const b = random(s.cout, 3);
      const dy = random(size(yShape), 4);
      const [xb, wb, bb, dyb] = [x, w, b, dy].map((a) => gpu.upload(a));
      const yb = gpu.upload(new Float32Array(size(yShape)).fill(NaN));
      // backward_input overwrites (accumulate false, as for a gradient's first writer): every element of dx, poisoned here, is written.
      const dxb = gpu.upload(new Float32Array(x.length).fill(NaN));
      const dwb = gpu.upload(new Float32Array(w.length));
      const dbb = gpu.upload(new Float32Array(s.cout));
      const pipeline = vi.spyOn(gpu, 'pipeline');
      run(gpu, (r) => {
        conv3dForward(r, yb, xb, wb, bb, s, { ...tiles, ...options });
        conv3dBackwardInput(r, dxb, dyb, wb, s, { ...tiles, ...options }, false);
        conv3dBackwardWeight(r, dwb, dbb, dyb, xb, s, options);
      });
      const ran = new Set(pipeline.mock.calls.map(([shader]) => shader));
      pipeline.mockRestore();
      // Where Winograd applies, it is what ran in every pass.
      const tile = options.winograd?.tile;
      if (kernel === 'winograd' && winogradApplies(gpu, s, 'forward', tile) && winogradApplies(gpu, s, 'backward_input', tile)) {
        for (const shader of SHADERS.winograd) expect(ran, shader).toContain(shader);
      }
      if (kernel === 'rows') {
        expect(ran.has('conv3d_forward_rows'), 'the rows forward ran').toBe(gpu.features.shuffle8 && s.kw <= 7);
        // backward_input as a forward of dy with the flipped kernel (it overwrites dx here).
        expect(ran.has('conv3d_flip_weights'), 'backward_input ran on the rows forward').toBe(gpu.features.shuffle8 && s.kw <= 7);
        expect(ran.has('conv3d_backward_weight_rows'), 'the rows backward_weight ran').toBe(weightRowsApplies(s));
      }
      expectClose(`${name} forward`, await gpu.readF32(yb, size(yShape)), conv3dForwardRef(x, w, b, s), tol.forward);
      expectClose(`${name} backward_input`, await gpu.readF32(dxb, x.length), conv3dBackwardInputRef(dy, w, s), tol.backward_input);
      const ref = conv3dBackwardWeightRef(dy, x, s);
      expectClose(`${name} backward_weight`, await gpu.readF32(dwb, w.length), ref.dw, tol.backward_weight);
      expectClose(`${name} backward_bias`, await gpu.readF32(dbb, s.cout), ref.db, TOL.backward_bias);
      for (const buf of [xb, wb, bb, dyb, yb, dxb, dwb, dbb]) buf!.destroy();
    });
  }

  it('forward without bias, first report layer channels (Cin 1 → 64)', async () => {
    const s = sh(1, 3, 16, 12, 1, 64, [1, 5, 5], 'same');
    const x = random(size([s.n, s.d, s.h, s.w, s.cin]), 5);
    const w = random(25 * 64, 6);
    const [xb, wb] = [gpu.upload(x), gpu.upload(w)];
    const yb = gpu.upload(new Float32Array(size(conv3dOutShape(s))).fill(NaN));
    run(gpu, (r) => conv3dForward(r, yb, xb, wb, null, s, options));
    expectClose('forward, no bias', await gpu.readF32(yb), conv3dForwardRef(x, w, null, s), tol.forward);
  });

  it('backward_weight splits a long position reduction across workgroups and sums the partials', async () => {
    const s = sh(4, 3, 16, 10, 4, 4, [1, 3, 3], 'same');
    const { tile, positions } = CONV3D_WEIGHT_SUBGROUP_BLOCK;
    const block = kernel === 'subgroup' ? { rows: tile, cols: tile, positions } : undefined;
    expect(conv3dWeightSplits(s, 65535, block).splits).toBeGreaterThan(1);
    const x = random(size([s.n, s.d, s.h, s.w, s.cin]), 7);
    const dy = random(size(conv3dOutShape(s)), 8);
    const [xb, dyb] = [gpu.upload(x), gpu.upload(dy)];
    const dwb = gpu.upload(new Float32Array(9 * 16));
    const dbb = gpu.upload(new Float32Array(4));
    run(gpu, (r) => conv3dBackwardWeight(r, dwb, dbb, dyb, xb, s, options));
    const ref = conv3dBackwardWeightRef(dy, x, s);
    expectClose('split-K backward_weight', await gpu.readF32(dwb, 9 * 16), ref.dw, tol.backward_weight);
    expectClose('split-K backward_bias', await gpu.readF32(dbb, 4), ref.db, TOL.backward_bias);
  });

  it('backward functions add into their gradients (dx, dw, db keep prior content); db may be null', async () => {
    // 3 input channels: dx added to channel by channel; 8: four channels of dx at once.
    for (const cin of [3, 8]) {
      const s = sh(1, 2, 5, 4, cin, 4, [1, 3, 3], 'same');
      const x = random(size([s.n, s.d, s.h, s.w, s.cin]), 9);
      const w = random(9 * cin * 4, 10);
      const dy = random(size(conv3dOutShape(s)), 11);
      const dx0 = random(x.length, 12);
      const dw0 = random(w.length, 13);
      const db0 = random(4, 14);
      const [xb, wb, dyb, dxb, dwb, dbb] = [x, w, dy, dx0, dw0, db0].map((a) => gpu.upload(a));
      const dw2b = gpu.upload(dw0);
      run(gpu, (r) => {
        conv3dBackwardInput(r, dxb!, dyb!, wb!, s, options);
        conv3dBackwardWeight(r, dwb!, dbb!, dyb!, xb!, s, options);
        conv3dBackwardWeight(r, dw2b, null, dyb!, xb!, s, options);
      });
      const dx = conv3dBackwardInputRef(dy, w, s).map((v, i) => v + dx0[i]!);
      const ref = conv3dBackwardWeightRef(dy, x, s);
      expectClose(`Cin ${cin}: dx += `, await gpu.readF32(dxb!, x.length), dx, tol.backward_input);
      expectClose(`Cin ${cin}: dw += `, await gpu.readF32(dwb!, w.length), ref.dw.map((v, i) => v + dw0[i]!), tol.backward_weight);
      expectClose(`Cin ${cin}: db += `, await gpu.readF32(dbb!, 4), ref.db.map((v, i) => v + db0[i]!), TOL.backward_bias);
      expectClose(`Cin ${cin}: dw += with db null`, await gpu.readF32(dw2b, w.length), ref.dw.map((v, i) => v + dw0[i]!), tol.backward_weight);
      for (const b of [xb, wb, dyb, dxb, dwb, dbb, dw2b]) b!.destroy();
    }
  });

  it('rejects buffers the vec4 bindings cannot cover', () => {
    const s = sh(1, 1, 1, 1, 1, 1, [1, 1, 1], 'valid');
    const odd = gpu.device.createBuffer({ size: 20, usage: GPUBufferUsage.STORAGE });
    const ok = gpu.upload(new Float32Array(4));
    expect(() => run(gpu, (r) => conv3dForward(r, ok, odd, ok, null, s, { kernel }))).toThrow(/multiple of 16/);
    odd.destroy();
  });
});

describe('conv3d reference gradients vs central finite differences (float64)', () => {
  // Loss L = sum(y · g) for a fixed random g, so dL/dy = g.
  const cases: Conv3dShape[] = [sh(1, 2, 3, 3, 2, 3, [1, 3, 3], 'same'), sh(2, 3, 3, 4, 2, 2, [2, 2, 3], 'valid'), sh(1, 3, 2, 2, 1, 2, [3, 2, 2], 'same')];
  for (const s of cases) {
    it(`${s.kd}×${s.kh}×${s.kw} ${s.padding}, ${s.cin}→${s.cout}`, () => {
      const x = Float64Array.from(random(size([s.n, s.d, s.h, s.w, s.cin]), 21));
      const w = Float64Array.from(random(s.kd * s.kh * s.kw * s.cin * s.cout, 22));
      const b = Float64Array.from(random(s.cout, 23));
      const g = Float64Array.from(random(size(conv3dOutShape(s)), 24));
      const dx = conv3dBackwardInputRef(g, w, s);
      const { dw, db } = conv3dBackwardWeightRef(g, x, s);
      const tol = TOL.refGradient;
      const label = `${s.kd}×${s.kh}×${s.kw} ${s.padding}`;
      expectGradient(`${label} dx`, (xx) => dot(conv3dForwardRef(xx, w, b, s), g), x, dx, tol);
      expectGradient(`${label} dw`, (ww) => dot(conv3dForwardRef(x, ww, b, s), g), w, dw, tol);
      expectGradient(`${label} db`, (bb) => dot(conv3dForwardRef(x, w, bb, s), g), b, db, tol);
    });
  }
});
