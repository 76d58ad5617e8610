// The fused conv-block tail, batch norm → ReLU → max pooling 1×2×2, which
// replaces batchnorm forward + relu forward + maxpool3d forward (and their three
// backwards: one reduction over the pooled elements and one pass over x), at the layers
// maxpool3d.bench.ts times and at conv1 at width 1/8; checked against
// src/ref/bn_relu_maxpool.ts (the composition of the three references) at full
// size before timing.
//
//   npx tsx bench/bn_relu_maxpool.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { BN_EPS } from '../src/kernels/batchnorm.js';
import { bnReluMaxpoolBackward, bnReluMaxpoolForward } from '../src/kernels/bn_relu_maxpool.js';
import { bnReluMaxpoolRef } from '../src/ref/bn_relu_maxpool.js';
import { BN_RELU_MAXPOOL_TOL } from '../src/kernels/tolerances.js';
import { benchMain, isMain, type OpCase } from './op_harness.js';
import { poolLayers } from './maxpool3d.bench.js';
import { checkClose } from './validate.js';

const F = 4;

/** Forward: one normalisation per element. */
const TOL = {
  forward: { atol: 1e-5, rtol: 1e-5 },
};

export function bnReluMaxpoolCases(batch: number): OpCase[] {
  return poolLayers(batch, true).flatMap(({ where, s, nin, nout, shape }): OpCase[] => [
    {
      name: `bn_relu_maxpool forward (${where})`,
      shape,
      flops: nin * 4,
      bytes: (nin + 2 * nout) * F,
      setup: (a) => {
        const [x, g, b, mean, inv] = [a.random(nin), a.random(s.c), a.random(s.c), a.random(s.c), a.random(s.c, 0.5, 2)];
        const [y, am] = [a.zeros(nout), a.zeros(nout)];
        return {
          // The training path: batch statistics given as mean and invstd.
          record: (r) => bnReluMaxpoolForward(r, y, am, x.buf, g.buf, b.buf, mean.buf, inv.buf, s, false),
          check: async () => {
            // The reference takes a variance: the one whose invstd the kernel was given.
            const variance = Float64Array.from(inv.data, (k) => 1 / (k * k) - BN_EPS);
            const ref = bnReluMaxpoolRef(x.data, g.data, b.data, mean.data, variance, s, false);
            return [checkClose('y', await a.read(y, nout), ref.y, TOL.forward)];
          },
        };
      },
    },
    {
      name: `bn_relu_maxpool backward (${where})`,
      shape,
      flops: nin * 6,
      bytes: (2 * nin + 2 * nout) * F,
      setup: (a) => {
        // The training forward's statistics and argmax, from the reference; the backward takes them as given.
        const [x, g, b] = [a.random(nin), a.random(s.c), a.random(s.c)];
        const ones = new Float64Array(s.c).fill(1);
        const ref = bnReluMaxpoolRef(x.data, g.data, b.data, ones, ones, s, true);
        const [dy, am, mean, inv] = [a.random(nout), a.upload(ref.argmax), a.upload(Float32Array.from(ref.mean)), a.upload(Float32Array.from(ref.invstd))];
        const [dx, dg, db] = [a.zeros(nin), a.zeros(s.c), a.zeros(s.c)];
        return {
          // The first writer of the input gradient (as in training): dx overwritten, dgamma and dbeta added to.
          record: (r) => bnReluMaxpoolBackward(r, dx, dg, db, dy.buf, am, x.buf, mean, inv, g.buf, s, false),
          check: async () => {
            const want = ref.backward(dy.data);
            return [
              checkClose('dx', await a.read(dx, nin), want.dx, BN_RELU_MAXPOOL_TOL.backward),
              checkClose('dgamma', await a.read(dg, s.c), want.dgamma, BN_RELU_MAXPOOL_TOL.backward),
              checkClose('dbeta', await a.read(db, s.c), want.dbeta, BN_RELU_MAXPOOL_TOL.backward),
            ];
          },
        };
      },
    },
  ]);
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(bnReluMaxpoolCases));
