// Softmax + focal loss and its gradient over the network's [N, 7] logits;
// checked against src/ref/softmax_focal.ts before timing (bench/op_harness.ts).
//
//   npx tsx bench/softmax_focal.bench.ts [--json] [--batch 8,32] [--iterations 10]
import { softmaxFocalLoss } from '../src/kernels/softmax_focal.js';
import { softmaxFocalRef } from '../src/ref/softmax_focal.js';
import { benchMain, isMain, type OpCase } from './op_harness.js';
import { checkClose } from './validate.js';

const F = 4;

/** As test/softmax_focal.test.ts: float32 exp, log and a few products per row. */
const TOL = {
  probs: { atol: 1e-6, rtol: 1e-5 },
  loss: { atol: 1e-6, rtol: 1e-5 },
  dlogits: { atol: 1e-7, rtol: 1e-4 },
};

export function softmaxFocalCases(batch: number): OpCase[] {
  const s = { n: batch, classes: 7, gamma: 2 };
  const nc = batch * 7;
  return [
    {
      name: 'softmax focal loss + gradient',
      shape: `[${batch},7]`,
      flops: nc * 12,
      bytes: (3 * nc + 2 * batch + 7) * F,
      setup: (a) => {
        const labels = Uint32Array.from({ length: batch }, (_, i) => i % 7);
        const [logits, alpha] = [a.random(nc, -3, 3), a.random(7, 0.25, 1)];
        const [lb, loss, probs, dl] = [a.upload(labels), a.zeros(batch), a.zeros(nc), a.zeros(nc)];
        return {
          record: (r) => softmaxFocalLoss(r, loss, probs, dl, logits.buf, lb, alpha.buf, s),
          check: async () => {
            const ref = softmaxFocalRef(logits.data, labels, alpha.data, s);
            return [
              checkClose('probs', await a.read(probs, nc), ref.probs, TOL.probs),
              checkClose('loss', await a.read(loss, batch), ref.loss, TOL.loss),
              checkClose('dlogits', await a.read(dl, nc), ref.dlogits, TOL.dlogits),
            ];
          },
        };
      },
    },
  ];
}

if (isMain(import.meta.url)) await benchMain((batches) => batches.flatMap(softmaxFocalCases));
