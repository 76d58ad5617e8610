// `ser evaluate`: a trained model on every labelled file of the given data.
import { dirname, join, resolve } from 'node:path';
import { getGpu } from '../kernels/gpu.js';
import { scanDataArgs } from '../data/sources.js';
import { DEFAULT_RUN, loadTrainedModel } from '../train/run.js';
import { Engine } from '../train/engine.js';
import { evaluateDataset } from '../train/fit.js';
import { featuresOfFiles, stack } from '../train/prepare.js';
import { classificationReport, confusionMatrixSvg, formatClassificationReport, formatConfusionMatrix, reportJson } from '../train/report.js';
import { writeFileAtomic } from '../util/atomic.js';
import { parseCommand, UsageError, type CommandDef, type OptionDef } from './args.js';

const EVALUATE = {
  usage: 'Usage: ser evaluate --model CKPT --data KIND=DIR [--data …] [--json] [--image OUT.svg]',
  about: `Evaluates a checkpoint (config.json must sit beside it) on every labelled file
of the data (no split): a classification report laid out like scikit-learn's,
the confusion matrix as text and as an SVG image.`,
  options: {
    model: { kind: 'string', arg: 'CKPT', help: 'e.g. runs/x/best.safetensors' },
    data: { kind: 'string', arg: 'KIND=DIR', help: 'ravdess, tess, savee, emodb, synth (repeatable)', multiple: true },
    batch: { kind: 'int', arg: 'N', help: 'inference batch', default: 32, min: 1 },
    image: { kind: 'string', arg: 'PATH', help: 'confusion-matrix image (default: evaluate_confusion.svg beside the checkpoint)' },
    json: { kind: 'flag', help: 'print a JSON object instead of text' },
  },
} as const satisfies CommandDef<Record<string, OptionDef>>;

export async function evaluate(argv: string[]): Promise<number> {
  const args = parseCommand(argv, EVALUATE);
  if (!args) return 0;
  const v = args.values;
  if (!v.model) throw new UsageError(`--model CKPT is required\n\n${args.help}`);
  const batch = v.batch;
  const { items } = await scanDataArgs(v.data);
  if (items.length === 0) throw new Error('no labelled files found in the given data');
  const gpu = await getGpu();
  const ckpt = resolve(String(v.model));
  const { model, config } = await loadTrainedModel(gpu, ckpt);
  const feats = await featuresOfFiles(gpu, items, { frontend: config.features, seed: 0, augmentCopies: 0, oversample: false, cacheDir: DEFAULT_RUN.cacheDir, quiet: Boolean(v.json) }, false, 'features');
  for (const s of feats.skipped) console.error(`skipped ${s.path}: ${s.reason}`);
  if (feats.kept.length === 0) throw new Error(`none of the ${items.length} labelled files could be decoded (reasons above)`);
  const data = stack(feats.features, feats.kept.map((f) => f.label));
  const engine = new Engine(gpu, model, batch, Float32Array.from(config.loss.alpha), config.loss.gamma);
  const ev = await evaluateDataset(engine, data, batch);
  const report = classificationReport(data.y, ev.pred, config.classes);
  const image = resolve(String(v.image ?? join(dirname(ckpt), 'evaluate_confusion.svg')));
  await writeFileAtomic(image, confusionMatrixSvg(report.confusion, config.classes, 'Evaluation'));
  if (v.json) {
    console.log(JSON.stringify({ ...reportJson(report), loss: ev.loss, files: data.y.length, skipped: feats.skipped.length, image }));
  } else {
    console.log(formatClassificationReport(report));
    console.log(formatConfusionMatrix(report.confusion, config.classes));
    console.log(`\nconfusion matrix image: ${image}`);
  }
  return 0;
}
