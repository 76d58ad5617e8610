// Argmax per row and confusion counts over the network's [N, 7] probabilities;
// checked against src/ref/metrics.ts before timing (bench/op_harness.ts).
//
//   npx tsx bench/metrics.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { argmaxRows, confusionCounts } from '../src/kernels/metrics.js';
import { argmaxRowsRef, confusionCountsRef } from '../src/ref/metrics.js';
import { benchMain, isMain, type OpCase } from './op_harness.js';
import { checkClose } from './validate.js';

const F = 4;

/** Indices and counts: exact. */
const TOL = { exact: { atol: 0, rtol: 0 } };

export function metricsCases(batch: number): OpCase[] {
  const s = { n: batch, c: 7 };
  return [
    {
      name: 'metrics argmax + confusion',
      shape: `[${batch},7]`,
      flops: batch * 7,
      bytes: (batch * 7 + 3 * batch) * F,
      setup: (a) => {
        const labels = Uint32Array.from({ length: batch }, (_, i) => i % 7);
        const [probs, lb, pred, counts] = [a.random(batch * 7, 0, 1), a.upload(labels), a.zeros(batch), a.zeros(49)];
        return {
          // Timed runs add to the counts, as the batches of an epoch do.
          record: (r) => {
            argmaxRows(r, pred, probs.buf, s);
            confusionCounts(r, counts, pred, lb, s);
          },
          check: async () => {
            const want = argmaxRowsRef(probs.data, batch, 7);
            return [
              checkClose('argmax', await a.readU32(pred, batch), want, TOL.exact),
              checkClose('confusion counts', await a.readU32(counts, 49), confusionCountsRef(want, labels, 7), TOL.exact),
            ];
          },
        };
      },
    },
  ];
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(metricsCases));
