import { describe, expect, it } from 'vitest';
import { getGpu } from '../src/kernels/gpu.js';
import { run } from '../src/kernels/kernel.js';
import { dropoutBackward, dropoutForward, type DropoutShape } from '../src/kernels/dropout.js';
import { dropoutBackwardRef, dropoutForwardRef, dropoutMaskRef } from '../src/ref/dropout.js';
import { DROPOUT_TOL } from '../src/kernels/tolerances.js';
import { dot, expectClose, expectGradient, makeRng, uniform, type Tol } from './util/check.js';

const gpu = await getGpu();

const TOL: Record<string, Tol> = {
  ...DROPOUT_TOL,
  refGradient: { atol: 1e-8, rtol: 1e-6 },
};

async function forward(x: Float32Array, s: DropoutShape): Promise<Float32Array> {
  const xb = gpu.upload(x);
  const yb = gpu.upload(new Float32Array(x.length));
  run(gpu, (r) => dropoutForward(r, yb, xb, s));
  const y = await gpu.readF32(yb, x.length);
  xb.destroy();
  yb.destroy();
  return y;
}

describe('dropout', () => {
  // 4 elements per vec4 and invocation; sizes not a multiple of 4 end in a tail of 1–3.
  it('forward and backward match the reference bit for bit in the mask (sizes 1, 2, 3, 4, 6, 257, 4096, 4099)', async () => {
    const rand = makeRng(3);
    for (const n of [1, 2, 3, 4, 6, 257, 4096, 4099]) {
      const s: DropoutShape = { n, rate: 0.3, seed: 1234, step: 7 };
      const x = uniform(rand, n, 0.5, 1.5);
      const dy = uniform(rand, n);
      const dx0 = uniform(rand, n);
      const xb = gpu.upload(x);
      const yb = gpu.upload(new Float32Array(n));
      const dyb = gpu.upload(dy);
      const dxb = gpu.upload(dx0);
      run(gpu, (r) => {
        dropoutForward(r, yb, xb, s);
        dropoutBackward(r, dxb, dyb, s);
      });
      expectClose(`dropout forward n=${n}`, await gpu.readF32(yb, n), dropoutForwardRef(x, s.rate, s.seed, s.step), TOL.forward!);
      const want = dropoutBackwardRef(dy, s.rate, s.seed, s.step).map((v, i) => v + dx0[i]!);
      expectClose(`dropout backward n=${n}`, await gpu.readF32(dxb, n), want, TOL.backward!);
      for (const b of [xb, yb, dyb, dxb]) b.destroy();
    }
  });

  // Step 0 (the first step of a run), seeds and steps near 2^32 (the key's additions
  // wrap), a rate at each end.
  const MASKS: Omit<DropoutShape, 'n'>[] = [
    { rate: 0.2, seed: 0, step: 0 },
    { rate: 0.5, seed: 99, step: 0 },
    { rate: 0.3, seed: 0xffffffff, step: 1 },
    { rate: 0.4, seed: 2 ** 31 + 12345, step: 0xfffffffe },
    { rate: 0.05, seed: 4_000_000_000, step: 123_456 },
    { rate: 0.9, seed: 7, step: 2 ** 31 },
  ];
  for (const m of MASKS) {
    it(`mask equals the reference's, keeps 1 - rate of the elements, scales by 1 / (1 - rate): rate ${m.rate}, seed ${m.seed}, step ${m.step}`, async () => {
      const n = 1 << 16;
      const y = await forward(new Float32Array(n).fill(1), { n, ...m });
      const want = dropoutMaskRef(n, m.rate, m.seed, m.step);
      const kept = y.reduce((t, v) => t + (v !== 0 ? 1 : 0), 0);
      const wantKept = want.reduce((t, v) => t + v, 0);
      const p = 1 - m.rate;
      const sd = Math.sqrt(n * p * (1 - p));
      console.log(`rate ${m.rate} seed ${m.seed} step ${m.step}: kept ${kept} of ${n} (reference ${wantKept}), expected ${(n * p).toFixed(0)} ± ${sd.toFixed(0)}`);
      // Exact, element by element: a threshold off by 2^24 / n steps (rate off by 1.5e-5) moves one
      // element on average; the keep fraction below catches only gross errors, the count any.
      expectClose('mask vs dropoutMaskRef', Uint8Array.from(y, (v) => (v !== 0 ? 1 : 0)), want, TOL.mask!);
      expect(kept).toBe(wantKept);
      expect(Math.abs(kept - n * p)).toBeLessThan(5 * sd);
      expect(y.every((v) => v === 0 || v === Math.fround(1 / p))).toBe(true);
    });
  }

  it('is deterministic by (seed, step) and differs across steps and seeds', async () => {
    const n = 4096;
    const x = new Float32Array(n).fill(1);
    const base = { n, rate: 0.5 };
    const a = await forward(x, { ...base, seed: 5, step: 1 });
    const again = await forward(x, { ...base, seed: 5, step: 1 });
    const nextStep = await forward(x, { ...base, seed: 5, step: 2 });
    const otherSeed = await forward(x, { ...base, seed: 6, step: 1 });
    expect(Array.from(again)).toEqual(Array.from(a));
    const agree = (u: Float32Array, v: Float32Array) => u.reduce((t, _, i) => t + ((u[i] !== 0) === (v[i] !== 0) ? 1 : 0), 0) / n;
    // Independent masks at rate 0.5 agree on about half the elements.
    expect(Math.abs(agree(a, nextStep) - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(agree(a, otherSeed) - 0.5)).toBeLessThan(0.05);
  });

  it('is the identity at inference and at rate 0', async () => {
    const rand = makeRng(8);
    const x = uniform(rand, 1000);
    expect(Array.from(await forward(x, { n: 1000, rate: 0.4, seed: 1, step: 1, training: false }))).toEqual(Array.from(x));
    expect(Array.from(await forward(x, { n: 1000, rate: 0, seed: 1, step: 1 }))).toEqual(Array.from(x));
  });

  it('reference gradient matches finite differences; neighbouring elements are not correlated', () => {
    const rand = makeRng(11);
    const x = uniform(rand, 40);
    const r = uniform(rand, 40);
    const f = (xs: Float64Array) => dot(dropoutForwardRef(xs, 0.3, 3, 4), r);
    expectGradient('dropout dx', f, x, dropoutBackwardRef(r, 0.3, 3, 4), TOL.refGradient!);
    const m = dropoutMaskRef(1 << 14, 0.5, 1, 1);
    let same = 0;
    for (let i = 1; i < m.length; i++) same += m[i] === m[i - 1] ? 1 : 0;
    expect(Math.abs(same / (m.length - 1) - 0.5)).toBeLessThan(0.03);
  });
});
