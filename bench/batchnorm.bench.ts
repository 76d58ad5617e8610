// Batch norm (training forward and backward) at conv1's output, the largest
// activation [N·3·128·60, 64], the same at width 1/8 (8 channels, where most of a
// step's batch-norm time goes at narrow widths), and at dense1's [N, 512]; checked against
// src/ref/batchnorm.ts at full size before timing (bench/op_harness.ts).
//
//   npx tsx bench/batchnorm.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { batchnormBackward, batchnormForwardTrain } from '../src/kernels/batchnorm.js';
import { batchnormBackwardRef, batchnormForwardTrainRef } from '../src/ref/batchnorm.js';
import { benchMain, isMain, type OpCase } from './op_harness.js';
import { checkClose } from './validate.js';

const F = 4;

/**
 * |gpu − ref| ≤ atol + rtol·|ref|. The per-channel statistics and dgamma, dbeta are
 * float32 sums over up to 10^6 rows, so their atol grows with the row count m.
 */
const TOL = {
  elementwise: { atol: 1e-4, rtol: 1e-4 },
  statistics: { atol: 1e-5, rtol: 1e-4 },
  sums: (m: number) => ({ atol: 1e-7 * m, rtol: 1e-4 }),
};

export function batchnormCases(batch: number): OpCase[] {
  const out: OpCase[] = [];
  for (const [m, c, where] of [
    [batch * 3 * 128 * 60, 64, 'conv1'],
    [batch * 3 * 128 * 60, 8, 'conv1, width 1/8'],
    [batch, 512, 'dense1'],
  ] as const) {
    const s = { m, c };
    out.push({
      name: `batchnorm train forward (${where})`,
      shape: `M=${m} C=${c}`,
      flops: 8 * m * c,
      bytes: 4 * m * c * F,
      setup: (a) => {
        const [x, g, b] = [a.random(m * c), a.random(c), a.random(c)];
        const [y, mean, inv, rm, rv] = [a.zeros(m * c), a.zeros(c), a.zeros(c), a.zeros(c), a.zeros(c)];
        return {
          record: (r) => batchnormForwardTrain(r, y, mean, inv, x.buf, g.buf, b.buf, rm, rv, s),
          check: async () => {
            const ref = batchnormForwardTrainRef(x.data, g.data, b.data, new Float64Array(c), new Float64Array(c), s);
            return [
              checkClose('y', await a.read(y, m * c), ref.y, TOL.elementwise),
              checkClose('mean', await a.read(mean, c), ref.mean, TOL.statistics),
              checkClose('invstd', await a.read(inv, c), ref.invstd, TOL.statistics),
              checkClose('running mean', await a.read(rm, c), ref.runMean, TOL.statistics),
              checkClose('running variance', await a.read(rv, c), ref.runVar, TOL.statistics),
            ];
          },
        };
      },
    });
    out.push({
      name: `batchnorm backward (${where})`,
      shape: `M=${m} C=${c}`,
      flops: 12 * m * c,
      bytes: 6 * m * c * F,
      setup: (a) => {
        const [x, dy, mean, inv, g] = [a.random(m * c), a.random(m * c), a.random(c), a.random(c, 0.5, 2), a.random(c)];
        const [dx, dg, db] = [a.zeros(m * c), a.zeros(c), a.zeros(c)];
        return {
          record: (r) => batchnormBackward(r, dx, dg, db, dy.buf, x.buf, mean.buf, inv.buf, g.buf, s),
          check: async () => {
            const ref = batchnormBackwardRef(dy.data, x.data, mean.data, inv.data, g.data, s);
            return [
              checkClose('dx', await a.read(dx, m * c), ref.dx, TOL.elementwise),
              checkClose('dgamma', await a.read(dg, c), ref.dgamma, TOL.sums(m)),
              checkClose('dbeta', await a.read(db, c), ref.dbeta, TOL.sums(m)),
            ];
          },
        };
      },
    });
  }
  return out;
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(batchnormCases));
