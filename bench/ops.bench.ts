// Every network op except conv3d (bench/conv3d.bench.ts), at the report
// network's shapes (input [N, 3, 128, 60, 1], width 1; see src/model/ser3dcnn.ts)
// for batch 8 and 32: the cases of the per-op files bench/<op>.bench.ts, each
// checked against its float64 reference and then timed (bench/op_harness.ts).
// `ser bench` calls benchOps.
//
//   npx tsx bench/ops.bench.ts [--json] [--batch 8,32] [--iterations 10]
import type { Gpu } from '../src/kernels/gpu.js';
import { benchMain, isMain, runOpCases, type OpBenchResult, type OpCase, type OpsBenchOptions } from './op_harness.js';
import { adamCases } from './adam.bench.js';
import { batchnormCases } from './batchnorm.bench.js';
import { bnReluMaxpoolCases } from './bn_relu_maxpool.bench.js';
import { denseCases } from './dense.bench.js';
import { dropoutCases } from './dropout.bench.js';
import { gapCases } from './gap.bench.js';
import { maxpool3dCases } from './maxpool3d.bench.js';
import { reluCases } from './relu.bench.js';
import { softmaxFocalCases } from './softmax_focal.bench.js';

export type { OpBenchResult, OpsBenchOptions };

/** The per-batch cases in the network's order, then Adam once (it does not depend on the batch). */
function allCases(batches: number[]): OpCase[] {
  const perBatch = [batchnormCases, reluCases, maxpool3dCases, bnReluMaxpoolCases, dropoutCases, gapCases, denseCases, softmaxFocalCases];
  return [...batches.flatMap((b) => perBatch.flatMap((cases) => cases(b))), ...adamCases()];
}

/** Validates and times every op's cases at each batch size (default 8 and 32), then Adam once. */
export async function benchOps(gpu: Gpu, opts: OpsBenchOptions = {}): Promise<OpBenchResult[]> {
  return runOpCases(gpu, allCases(opts.batches ?? [8, 32]), opts);
}

if (isMain(import.meta.url)) await benchMain(allCases);
