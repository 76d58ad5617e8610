// Global average pooling of conv5's output [N, 3·8·3, 512], forward and backward;
// checked against src/ref/gap.ts at full size before timing (bench/op_harness.ts).
//
//   npx tsx bench/gap.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { gapBackward, gapForward } from '../src/kernels/gap.js';
import { gapBackwardRef, gapForwardRef } from '../src/ref/gap.js';
import { benchMain, isMain, oneInOneOut, type OpCase } from './op_harness.js';

const F = 4;

/** Means of 72 values in [-1, 1), and a division: float32 rounding only. */
const TOL = { mean: { atol: 1e-6, rtol: 1e-5 } };

export function gapCases(batch: number): OpCase[] {
  const s = { n: batch, spatial: 72, c: 512 };
  const nx = batch * 72 * 512;
  const ny = batch * 512;
  const common = { shape: `[${batch},72,512]`, flops: nx, tol: TOL.mean };
  return [
    oneInOneOut({
      ...common,
      name: 'gap forward',
      bytes: (nx + ny) * F,
      inLen: nx,
      outLen: ny,
      output: 'y',
      record: (r, y, x) => gapForward(r, y, x, s),
      ref: (x) => gapForwardRef(x, s),
    }),
    oneInOneOut({
      ...common,
      name: 'gap backward',
      bytes: (2 * nx + ny) * F,
      inLen: ny,
      outLen: nx,
      output: 'dx',
      record: (r, dx, dy) => gapBackward(r, dx, dy, s),
      ref: (dy) => gapBackwardRef(dy, s),
    }),
  ];
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(gapCases));
