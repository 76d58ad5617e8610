import { describe, expect, it } from 'vitest';
import {
  classificationReport, confusionMatrixSvg, formatClassificationReport, formatConfusionMatrix, formatFixed, reportJson, trainingCurvesSvg,
} from '../src/train/report.js';

// A small case computed by hand. Class 'dd' is never predicted: precision 0 (zero_division=0).
//   confusion (rows true):  a [2 1 0 0]   b [1 1 0 0]   c [1 1 2 0]   dd [0 0 1 0]
const Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3];
const Y_PRED = [0, 0, 1, 1, 0, 2, 2, 0, 1, 2];
const NAMES = ['a', 'b', 'c', 'dd'];

const TOL = { atol: 1e-12, rtol: 0 };

function close(got: number, want: number, what: string): void {
  const diff = Math.abs(got - want);
  expect(diff, `${what}: got ${got}, want ${want}, diff ${diff}`).toBeLessThanOrEqual(TOL.atol + TOL.rtol * Math.abs(want));
}

/** Balanced tags, one <svg> root, no stray '<' or '&' in text: enough to catch broken markup. */
function checkSvg(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  let roots = 0;
  while (i < svg.length) {
    const lt = svg.indexOf('<', i);
    const text = svg.slice(i, lt < 0 ? svg.length : lt);
    expect(text, 'text has only valid entities').toMatch(/^(?:[^&<>]|&(?:amp|lt|gt|quot);)*$/);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    expect(m, `malformed tag at ${lt}: ${svg.slice(lt, lt + 60)}`).not.toBeNull();
    const [all, close, name, , self] = m!;
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else if (!self) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
    i = lt + all.length;
  }
  expect(stack, 'unclosed tags').toEqual([]);
  expect(roots).toBe(1);
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
}

describe('classificationReport', () => {
  const r = classificationReport(Y_TRUE, Y_PRED, NAMES);

  it('matches the hand-computed metrics, including a class never predicted', () => {
    const want = [
      { precision: 2 / 4, recall: 2 / 3, f1: 4 / 7, support: 3 },
      { precision: 1 / 3, recall: 1 / 2, f1: 2 / 5, support: 2 },
      { precision: 2 / 3, recall: 2 / 4, f1: 4 / 7, support: 4 },
      { precision: 0, recall: 0, f1: 0, support: 1 },
    ];
    let maxDiff = 0;
    want.forEach((w, c) => {
      for (const k of ['precision', 'recall', 'f1', 'support'] as const) {
        close(r.perClass[c]![k], w[k], `${NAMES[c]} ${k}`);
        maxDiff = Math.max(maxDiff, Math.abs(r.perClass[c]![k] - w[k]));
      }
    });
    console.log(`max difference from hand-computed per-class metrics: ${maxDiff}`);
    close(r.accuracy, 0.5, 'accuracy');
    close(r.macro.precision, 1.5 / 4, 'macro precision');
    close(r.macro.recall, (2 / 3 + 1) / 4, 'macro recall');
    close(r.macro.f1, (8 / 7 + 2 / 5) / 4, 'macro f1');
    close(r.weighted.precision, (1.5 + 2 / 3 + 8 / 3) / 10, 'weighted precision');
    close(r.weighted.recall, 0.5, 'weighted recall');
    close(r.weighted.f1, (12 / 7 + 4 / 5 + 16 / 7) / 10, 'weighted f1');
    expect(r.confusion).toEqual([[2, 1, 0, 0], [1, 1, 0, 0], [1, 1, 2, 0], [0, 0, 1, 0]]);
  });

  it("formats exactly like sklearn's classification_report", () => {
    const text = formatClassificationReport(r);
    console.log(text);
    expect(text).toBe(
      '              precision    recall  f1-score   support\n' +
        '\n' +
        '           a       0.50      0.67      0.57         3\n' +
        '           b       0.33      0.50      0.40         2\n' +
        '           c       0.67      0.50      0.57         4\n' +
        '          dd       0.00      0.00      0.00         1\n' +
        '\n' +
        '    accuracy                           0.50        10\n' +
        '   macro avg       0.38      0.42      0.39        10\n' +
        'weighted avg       0.48      0.50      0.48        10\n',
    );
    const long = formatClassificationReport(classificationReport([0, 1], [0, 0], ['a very long class name', 'x']), 3);
    expect(long.split('\n')[0]).toBe(`${' '.repeat(23)} precision    recall  f1-score   support`);
    expect(long.split('\n')[2]).toBe('a very long class name      0.500     1.000     0.667         1');
  });

  it('averages over the classes present in truth or predictions: a class the corpus lacks does not lower macro F1', () => {
    // Classes 0 and 1 occur; class 2 ("absent") neither occurs nor is predicted.
    const withAbsent = classificationReport([0, 0, 1, 1], [0, 1, 1, 1], ['x', 'y', 'absent']);
    const without = classificationReport([0, 0, 1, 1], [0, 1, 1, 1], ['x', 'y']);
    close(withAbsent.macro.f1, without.macro.f1, 'macro f1');
    close(withAbsent.macro.f1, (2 / 3 + 4 / 5) / 2, 'macro f1 by hand');
    close(withAbsent.weighted.f1, without.weighted.f1, 'weighted f1');
    expect(withAbsent.perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    // A class that is only predicted (never true) counts: its precision is 0.
    const predictedOnly = classificationReport([0, 0], [0, 2], ['x', 'y', 'z']);
    close(predictedOnly.macro.precision, (1 + 0) / 2, 'macro precision with a predicted-only class');
  });

  it("rounds half to even on exact ties, as Python's format does", () => {
    expect(formatFixed(0.125, 2)).toBe('0.12');
    expect(formatFixed(0.375, 2)).toBe('0.38');
    expect(formatFixed(0.5, 0)).toBe('0');
    expect(formatFixed(2.675, 2)).toBe('2.67'); // 2.675 is stored just below the tie
    expect(formatFixed(1 / 3, 4)).toBe('0.3333');
    expect(formatFixed(-0.125, 2)).toBe('-0.12');
  });

  it('rejects mismatched lengths and out-of-range labels', () => {
    expect(() => classificationReport([0, 1], [0], NAMES)).toThrow(/2 labels but yPred has 1/);
    expect(() => classificationReport([0, 4], [0, 0], NAMES)).toThrow(/out of range at 1/);
  });

  it('gives a JSON form with accuracy, macro_f1, per-class metrics and the confusion matrix', () => {
    const j = JSON.parse(JSON.stringify(reportJson(r)));
    expect(j.accuracy).toBe(0.5);
    close(j.macro_f1, (8 / 7 + 2 / 5) / 4, 'macro_f1');
    expect(j.per_class.dd).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(j.per_class.b.support).toBe(2);
    expect(j.confusion).toEqual(r.confusion);
    expect(j.class_names).toEqual(NAMES);
  });

  it('prints the confusion matrix as an aligned table', () => {
    const t = formatConfusionMatrix(r.confusion, NAMES);
    console.log(t);
    expect(t.split('\n')).toEqual(['true \\ pred   a   b   c  dd', 'a             2   1   0   0', 'b             1   1   0   0', 'c             1   1   2   0', 'dd            0   0   1   0', '']);
  });
});

describe('SVG', () => {
  it('confusion matrix: well-formed, labelled, counts in cells, names escaped', () => {
    const names = ['neutral', 'happy', 'a<b&c'];
    const svg = confusionMatrixSvg([[5, 1, 0], [2, 7, 1], [0, 0, 9]], names);
    checkSvg(svg);
    for (const s of ['neutral', 'happy', 'a&lt;b&amp;c', 'Predicted', 'True', '>7</text>', '>9</text>']) expect(svg).toContain(s);
    expect(svg).not.toContain('a<b');
  });

  it('training curves: two panels, train and validation, robust to 0, 1 and diverged epochs', () => {
    const history = Array.from({ length: 12 }, (_, e) => ({ loss: 2 / (e + 1), accuracy: 0.3 + 0.05 * e, val_loss: 2.2 / (e + 1) + 0.1, val_accuracy: 0.25 + 0.045 * e, lr: 1e-3 }));
    const svg = trainingCurvesSvg(history);
    checkSvg(svg);
    for (const s of ['Accuracy', 'Loss', 'train', 'validation', 'epoch']) expect(svg).toContain(s);
    expect(svg.match(/<path /g)).toHaveLength(4);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    checkSvg(trainingCurvesSvg([]));
    const one = trainingCurvesSvg(history.slice(0, 1));
    checkSvg(one);
    expect(one.match(/<circle /g)).toHaveLength(4);
    const nan = trainingCurvesSvg([...history.slice(0, 3), { ...history[3]!, loss: NaN }, ...history.slice(4)]);
    checkSvg(nan);
    expect(nan).not.toMatch(/NaN/);
  });
});
