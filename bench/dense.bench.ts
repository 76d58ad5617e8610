// The three dense layers (512→512, 512→256, 256→7) forward, backward_input and
// backward_weight; checked against src/ref/dense.ts at full size before timing
// (bench/op_harness.ts).
//
//   npx tsx bench/dense.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { denseBackwardInput, denseBackwardWeight, denseForward, type DenseShape } from '../src/kernels/dense.js';
import { denseBackwardRef, denseForwardRef } from '../src/ref/dense.js';
import { benchMain, isMain, type OpCase } from './op_harness.js';
import { checkClose } from './validate.js';

const F = 4;

/** float32 sums of up to 512 products of values in [-1, 1). */
const TOL = { gemm: { atol: 1e-4, rtol: 1e-4 } };

export function denseCases(batch: number): OpCase[] {
  const layers: DenseShape[] = [
    { m: batch, k: 512, n: 512 },
    { m: batch, k: 512, n: 256 },
    { m: batch, k: 256, n: 7 },
  ];
  return layers.flatMap((s): OpCase[] => {
    const shape = `M=${s.m} K=${s.k} N=${s.n}`;
    const flops = 2 * s.m * s.k * s.n;
    const io = (s.m * s.k + s.k * s.n + s.m * s.n) * F;
    const [nx, nw, ny] = [s.m * s.k, s.k * s.n, s.m * s.n];
    return [
      {
        name: `dense forward ${s.k}→${s.n}`,
        shape,
        flops,
        bytes: io,
        setup: (a) => {
          const [x, w, b, y] = [a.random(nx), a.random(nw), a.random(s.n), a.zeros(ny)];
          return {
            record: (r) => denseForward(r, y, x.buf, w.buf, b.buf, s),
            check: async () => [checkClose('y', await a.read(y, ny), denseForwardRef(x.data, w.data, b.data, s), TOL.gemm)],
          };
        },
      },
      {
        name: `dense backward_input ${s.k}→${s.n}`,
        shape,
        flops,
        bytes: io + nx * F,
        setup: (a) => {
          const [dy, w, dx] = [a.random(ny), a.random(nw), a.zeros(nx)];
          return {
            record: (r) => denseBackwardInput(r, dx, dy.buf, w.buf, s),
            check: async () => [checkClose('dx', await a.read(dx, nx), denseBackwardRef(dy.data, new Float32Array(nx), w.data, s).dx, TOL.gemm)],
          };
        },
      },
      {
        name: `dense backward_weight ${s.k}→${s.n}`,
        shape,
        flops: flops + ny,
        bytes: io + nw * F,
        setup: (a) => {
          const [dy, x, dw, db] = [a.random(ny), a.random(nx), a.zeros(nw), a.zeros(s.n)];
          return {
            record: (r) => denseBackwardWeight(r, dw, db, dy.buf, x.buf, s),
            check: async () => {
              const ref = denseBackwardRef(dy.data, x.data, new Float32Array(nw), s);
              return [checkClose('dw', await a.read(dw, nw), ref.dw, TOL.gemm), checkClose('db', await a.read(db, s.n), ref.db, TOL.gemm)];
            },
          };
        },
      },
    ];
  });
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(denseCases));
