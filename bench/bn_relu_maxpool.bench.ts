// The fused conv-block tail, batch norm → ReLU → max pooling 1×2×2, which
// replaces batchnorm forward + relu forward + maxpool3d forward, at the layers
// maxpool3d.bench.ts times and at conv1 at width 1/8; checked against
// src/ref/bn_relu_maxpool.ts (the composition of the three references) at full
// size before timing.
//
//   npx tsx bench/bn_relu_maxpool.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { BN_EPS } from '../src/kernels/batchnorm.js';
import { bnReluMaxpoolBackward, bnReluMaxpoolForward } from '../src/kernels/bn_relu_maxpool.js';
import { bnReluMaxpoolRef } from '../src/ref/bn_relu_maxpool.js';
import { maxpool3dBackwardRef, maxpool3dForwardRef } from '../src/ref/maxpool3d.js';
import { reluBackwardRef } from '../src/ref/relu.js';
import { benchMain, isMain, type OpCase } from './op_harness.js';
import { poolLayers } from './maxpool3d.bench.js';
import { checkClose } from './validate.js';

const F = 4;

/** Forward: one normalisation per element; backward routes gradients unchanged (exact). */
const TOL = {
  forward: { atol: 1e-5, rtol: 1e-5 },
  exact: { atol: 0, rtol: 0 },
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
      flops: nout,
      bytes: 4 * nout * F,
      setup: (a) => {
        const argmax = maxpool3dForwardRef(a.random(nin).data, s).argmax;
        const [dy, y, am, dv] = [a.random(nout), a.random(nout), a.upload(argmax), a.zeros(nin)];
        return {
          record: (r) => bnReluMaxpoolBackward(r, dv, dy.buf, y.buf, am, s),
          check: async () => [checkClose('dv', await a.read(dv, nin), maxpool3dBackwardRef(reluBackwardRef(dy.data, y.data), argmax, s), TOL.exact)],
        };
      },
    },
  ]);
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(bnReluMaxpoolCases));
