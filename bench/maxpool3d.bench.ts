// Max pooling 1×2×2, forward and backward, after conv1 and after conv3 (where
// W 15 → 7 drops a column); checked against src/ref/maxpool3d.ts at full size
// before timing (bench/op_harness.ts).
//
//   npx tsx bench/maxpool3d.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { maxpool3dBackward, maxpool3dForward, maxpool3dOutShape, type Maxpool3dShape } from '../src/kernels/maxpool3d.js';
import { maxpool3dBackwardRef, maxpool3dForwardRef } from '../src/ref/maxpool3d.js';
import { benchMain, isMain, type OpCase } from './op_harness.js';
import { checkClose } from './validate.js';

const F = 4;

/** Comparisons and, in backward, one addition per element (the windows do not overlap): exact. */
const TOL = { exact: { atol: 0, rtol: 0 } };

/**
 * The pooled layers at batch n, with their input and output sizes (bn_relu_maxpool.bench.ts
 * times the same, and with `narrow` conv1 at width 1/8 too: 8 channels).
 */
export function poolLayers(n: number, narrow = false): { where: string; s: Maxpool3dShape; nin: number; nout: number; shape: string }[] {
  const layers: [string, Maxpool3dShape][] = [
    ['conv1', { n, d: 3, h: 128, w: 60, c: 64, pd: 1, ph: 2, pw: 2 }],
    ...(narrow ? [['conv1, width 1/8', { n, d: 3, h: 128, w: 60, c: 8, pd: 1, ph: 2, pw: 2 }] as [string, Maxpool3dShape]] : []),
    ['conv3', { n, d: 3, h: 32, w: 15, c: 256, pd: 1, ph: 2, pw: 2 }],
  ];
  return layers.map(([where, s]) => {
    const { od, oh, ow } = maxpool3dOutShape(s);
    return { where, s, nin: s.n * s.d * s.h * s.w * s.c, nout: s.n * od * oh * ow * s.c, shape: `[${s.n},${s.d},${s.h},${s.w},${s.c}] / 1×2×2` };
  });
}

export function maxpool3dCases(batch: number): OpCase[] {
  return poolLayers(batch).flatMap(({ where, s, nin, nout, shape }): OpCase[] => [
    {
      name: `maxpool3d forward (${where})`,
      shape,
      flops: nout * 4,
      bytes: (nin + 2 * nout) * F,
      setup: (a) => {
        const [x, y, am] = [a.random(nin), a.zeros(nout), a.zeros(nout)];
        return {
          record: (r) => maxpool3dForward(r, y, am, x.buf, s),
          check: async () => {
            const ref = maxpool3dForwardRef(x.data, s);
            return [checkClose('y', await a.read(y, nout), ref.y, TOL.exact), checkClose('argmax', await a.readU32(am, nout), ref.argmax, TOL.exact)];
          },
        };
      },
    },
    {
      name: `maxpool3d backward (${where})`,
      shape,
      flops: nout,
      bytes: 4 * nout * F,
      setup: (a) => {
        // The argmax a forward pass leaves for random inputs.
        const argmax = maxpool3dForwardRef(a.random(nin).data, s).argmax;
        const [dy, am, dx] = [a.random(nout), a.upload(argmax), a.zeros(nin)];
        return {
          record: (r) => maxpool3dBackward(r, dx, dy.buf, am, s),
          check: async () => [checkClose('dx', await a.read(dx, nin), maxpool3dBackwardRef(dy.data, argmax, s), TOL.exact)],
        };
      },
    },
  ]);
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(maxpool3dCases));
