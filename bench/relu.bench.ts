// ReLU forward and backward at conv1's output [N, 3, 128, 60, 64]; checked
// against src/ref/relu.ts at full size before timing (bench/op_harness.ts).
//
//   npx tsx bench/relu.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { reluBackward, reluForward } from '../src/kernels/relu.js';
import { reluBackwardRef, reluForwardRef } from '../src/ref/relu.js';
import { benchMain, isMain, oneInOneOut, type OpCase } from './op_harness.js';
import { checkClose } from './validate.js';

const F = 4;

/** A comparison and a select: float32 gives exactly the float64 result. */
const TOL = { exact: { atol: 0, rtol: 0 } };

export function reluCases(batch: number): OpCase[] {
  const n = batch * 3 * 128 * 60 * 64;
  return [
    oneInOneOut({
      name: 'relu forward (conv1)',
      shape: `n=${n}`,
      flops: n,
      bytes: 2 * n * F,
      inLen: n,
      outLen: n,
      output: 'y',
      tol: TOL.exact,
      record: (r, y, x) => reluForward(r, y, x, n),
      ref: reluForwardRef,
    }),
    {
      name: 'relu backward (conv1)',
      shape: `n=${n}`,
      flops: n,
      bytes: 4 * n * F,
      setup: (a) => {
        const [dy, y, dx] = [a.random(n), a.random(n), a.zeros(n)];
        return {
          record: (r) => reluBackward(r, dx, dy.buf, y.buf, n),
          check: async () => [checkClose('dx', await a.read(dx, n), reluBackwardRef(dy.data, y.data), TOL.exact)],
        };
      },
    },
  ];
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(reluCases));
