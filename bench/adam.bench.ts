// One Adam update over as many values as the report network has parameters
// (about 2.2 M; independent of the batch); checked against src/ref/adam.ts at
// full size before timing (bench/op_harness.ts).
//
//   npx tsx bench/adam.bench.ts [--json] [--iterations 10]
import { adamUpdate } from '../src/kernels/adam.js';
import { adamUpdateRef } from '../src/ref/adam.js';
import { benchMain, isMain, type OpCase } from './op_harness.js';
import { checkClose } from './validate.js';

const F = 4;

/** As test/adam.test.ts: a few float32 operations per element. */
const TOL = {
  param: { atol: 1e-6, rtol: 1e-5 },
  moments: { atol: 1e-7, rtol: 1e-5 },
};

export function adamCases(): OpCase[] {
  const n = 1600 + 73_728 + 294_912 + 1_179_648 + 262_144 + 262_144 + 131_072 + 1792;
  const hp = { n, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7, step: 1 };
  return [
    {
      name: 'adam update (all parameters)',
      shape: `n=${n}`,
      flops: 12 * n,
      bytes: 7 * n * F,
      setup: (a) => {
        const [p, g, m, v] = [a.random(n), a.random(n), a.zeros(n), a.zeros(n)];
        return {
          // The first step from zero moments; timed runs keep stepping.
          record: (r) => adamUpdate(r, p.buf, g.buf, m, v, hp),
          check: async () => {
            const [param, mRef, vRef] = [Float64Array.from(p.data), new Float64Array(n), new Float64Array(n)];
            adamUpdateRef(param, g.data, mRef, vRef, hp);
            return [
              checkClose('param', await a.read(p.buf, n), param, TOL.param),
              checkClose('m', await a.read(m, n), mRef, TOL.moments),
              checkClose('v', await a.read(v, n), vRef, TOL.moments),
            ];
          },
        };
      },
    },
  ];
}

if (isMain(import.meta.url)) await benchMain(() => adamCases());
