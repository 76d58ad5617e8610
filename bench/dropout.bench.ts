// Dropout 0.2 after the first pool, [N, 3, 64, 30, 64] (width 1) and [N, 3, 64, 30, 8]
// (width 1/8), forward and backward;
// checked against src/ref/dropout.ts (the same mask, element by element) at full
// size before timing (bench/op_harness.ts).
//
//   npx tsx bench/dropout.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { dropoutBackward, dropoutForward } from '../src/kernels/dropout.js';
import { dropoutBackwardRef, dropoutForwardRef } from '../src/ref/dropout.js';
import { benchMain, isMain, oneInOneOut, type OpCase } from './op_harness.js';

const F = 4;

/** The mask must agree exactly; the kept values carry one float32 rounding of x / (1 − rate). */
const TOL = { scaled: { atol: 0, rtol: 1e-6 } };

export function dropoutCases(batch: number): OpCase[] {
  const layers = [
    ['pool1', 64],
    ['pool1, width 1/8', 8],
  ] as const;
  return layers.flatMap(([where, c]) => {
    const n = batch * 3 * 64 * 30 * c;
    const s = { n, rate: 0.2, seed: 1, step: 1 };
    // Backward applies the forward's mask to dy (and reads dx too, as it adds into it).
    const directions = [
      ['forward', 2, 'y', dropoutForward, dropoutForwardRef],
      ['backward', 3, 'dx', dropoutBackward, dropoutBackwardRef],
    ] as const;
    return directions.map(([direction, tensors, output, kernel, ref]) =>
      oneInOneOut({
        name: `dropout ${direction} (${where})`,
        shape: `n=${n}`,
        flops: n,
        bytes: tensors * n * F,
        inLen: n,
        outLen: n,
        output,
        tol: TOL.scaled,
        record: (r, out, input) => kernel(r, out, input, s),
        ref: (input) => ref(input, s.rate, s.seed, s.step),
      }),
    );
  });
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(dropoutCases));
