// Evaluation reports: scikit-learn's classification_report (same numbers, same text
// layout, zero_division=0), the confusion matrix as text, JSON and SVG, and the
// training curves as SVG. SVGs are written by hand: self-contained, no fonts or scripts.

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  classNames: string[];
  perClass: ClassMetrics[];
  accuracy: number;
  macro: ClassMetrics;
  weighted: ClassMetrics;
  /** confusion[true][pred] */
  confusion: number[][];
}

export interface ReportJson {
  accuracy: number;
  macro_f1: number;
  weighted_f1: number;
  support: number;
  class_names: string[];
  per_class: Record<string, ClassMetrics>;
  macro_avg: ClassMetrics;
  weighted_avg: ClassMetrics;
  /** Rows are true classes, columns predicted. */
  confusion: number[][];
}

/** One epoch of training history, as Keras' History records it. */
export interface CurvePoint {
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  lr?: number;
}

export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, classes: number): number[][] {
  if (yTrue.length !== yPred.length) throw new Error(`yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!(Number.isInteger(t) && t >= 0 && t < classes && Number.isInteger(p) && p >= 0 && p < classes)) {
      throw new Error(`label out of range at ${i}: true ${t}, predicted ${p} (classes: ${classes})`);
    }
    m[t]![p]!++;
  }
  return m;
}

/**
 * Per-class metrics for every class in classNames (zero_division=0); the averages
 * run over the classes that occur in the truth or the predictions, as sklearn's
 * default (labels=None) does, so a corpus without some class (EmoDB has no
 * "surprised") is not marked down for it. Absent classes are still listed, with
 * support 0.
 */
export function classificationReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, classNames: readonly string[]): ClassificationReport {
  const k = classNames.length;
  const confusion = confusionMatrix(yTrue, yPred, k);
  const perClass: ClassMetrics[] = [];
  let correct = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    correct += tp;
    perClass.push({
      precision: predicted ? tp / predicted : 0,
      recall: support ? tp / support : 0,
      // 2tp / (2tp + fp + fn): sklearn's form, defined (as 0) when p + r = 0.
      f1: support + predicted ? (2 * tp) / (support + predicted) : 0,
      support,
    });
  }
  const total = yTrue.length;
  const present = perClass.filter((_, c) => perClass[c]!.support > 0 || confusion.some((row) => row[c]! > 0));
  const avg = (weight: (m: ClassMetrics) => number): ClassMetrics => {
    const wsum = present.reduce((a, m) => a + weight(m), 0);
    const mean = (f: (m: ClassMetrics) => number) => (wsum ? present.reduce((a, m) => a + weight(m) * f(m), 0) / wsum : 0);
    return { precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1), support: total };
  };
  return {
    classNames: [...classNames],
    perClass,
    accuracy: total ? correct / total : 0,
    macro: avg(() => 1),
    weighted: avg((m) => m.support),
    confusion,
  };
}

/**
 * x with `digits` decimals, rounded as Python's format does (half to even on the exact
 * binary value), so the text matches sklearn's to the character.
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return String(x);
  const s = x.toFixed(digits);
  // toFixed rounds exact ties away from zero; detect an exact tie from a longer exact expansion.
  const long = Math.abs(x).toFixed(Math.min(100, digits + 40));
  const tail = long.slice(long.indexOf('.') + 1 + digits);
  if (!/^50*$/.test(tail)) return s;
  const down = (Math.sign(x) * Math.floor(Math.abs(x) * 10 ** digits)) / 10 ** digits;
  const lastDigit = Math.floor(Math.abs(x) * 10 ** digits) % 10;
  return lastDigit % 2 === 0 ? down.toFixed(digits) : s;
}

/** The text of sklearn.metrics.classification_report, character for character. */
export function formatClassificationReport(r: ClassificationReport, digits = 2): string {
  const lastHeading = 'weighted avg';
  const width = Math.max(...r.classNames.map((n) => n.length), lastHeading.length, digits);
  const col = (s: string) => ` ${s.padStart(9)}`;
  const row = (name: string, m: ClassMetrics) =>
    `${name.padStart(width)} ${col(formatFixed(m.precision, digits))}${col(formatFixed(m.recall, digits))}${col(formatFixed(m.f1, digits))}${col(String(m.support))}\n`;
  let out = `${''.padStart(width)} ${['precision', 'recall', 'f1-score', 'support'].map(col).join('')}\n\n`;
  r.classNames.forEach((n, c) => (out += row(n, r.perClass[c]!)));
  out += '\n';
  out += `${'accuracy'.padStart(width)} ${col('')}${col('')}${col(formatFixed(r.accuracy, digits))}${col(String(r.macro.support))}\n`;
  out += row('macro avg', r.macro);
  out += row(lastHeading, r.weighted);
  return out;
}

/** Confusion matrix as an aligned table: rows true class, columns predicted. */
export function formatConfusionMatrix(matrix: readonly (readonly number[])[], classNames: readonly string[]): string {
  const corner = 'true \\ pred';
  const w0 = Math.max(corner.length, ...classNames.map((n) => n.length));
  const w = Math.max(...classNames.map((n) => n.length), ...matrix.flat().map((v) => String(v).length));
  const lines = [`${corner.padEnd(w0)}  ${classNames.map((n) => n.padStart(w)).join('  ')}`];
  matrix.forEach((row, i) => lines.push(`${classNames[i]!.padEnd(w0)}  ${row.map((v) => String(v).padStart(w)).join('  ')}`));
  return `${lines.join('\n')}\n`;
}

export function reportJson(r: ClassificationReport): ReportJson {
  return {
    accuracy: r.accuracy,
    macro_f1: r.macro.f1,
    weighted_f1: r.weighted.f1,
    support: r.macro.support,
    class_names: [...r.classNames],
    per_class: Object.fromEntries(r.classNames.map((n, c) => [n, { ...r.perClass[c]! }])),
    macro_avg: { ...r.macro },
    weighted_avg: { ...r.weighted },
    confusion: r.confusion.map((row) => [...row]),
  };
}

// ---- SVG ------------------------------------------------------------------------------

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const n2 = (x: number) => (Math.round(x * 100) / 100).toString();
const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

function svgOpen(width: number, height: number, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">\n<title>${esc(title)}</title>\n<rect width="${width}" height="${height}" fill="#ffffff"/>\n`;
}

/** Heatmap of the confusion matrix, coloured by row-normalised rate (recall), counts in cells. */
export function confusionMatrixSvg(matrix: readonly (readonly number[])[], classNames: readonly string[], title = 'Confusion matrix'): string {
  const k = classNames.length;
  const cell = 52;
  const labelW = 14 + 7 * Math.max(4, ...classNames.map((n) => n.length));
  const left = labelW + 28;
  const top = 44;
  const gridW = cell * k;
  const width = left + gridW + 20;
  const height = top + gridW + Math.round(0.75 * labelW) + 34;
  let s = svgOpen(width, height, title);
  s += `<text x="${n2(left + gridW / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>\n`;
  for (let i = 0; i < k; i++) {
    const rowSum = matrix[i]!.reduce((a, b) => a + b, 0);
    for (let j = 0; j < k; j++) {
      const v = matrix[i]![j]!;
      const rate = rowSum ? v / rowSum : 0;
      // White to a dark blue; text flips to white on the dark half.
      const shade = (a: number, b: number) => Math.round(a + (b - a) * rate);
      const fill = `rgb(${shade(247, 8)},${shade(251, 48)},${shade(255, 107)})`;
      const x = left + j * cell;
      const y = top + i * cell;
      s += `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#cccccc"/>`;
      s += `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${rate > 0.5 ? '#ffffff' : '#000000'}">${v}</text>\n`;
    }
    s += `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(classNames[i]!)}</text>\n`;
    const cx = left + i * cell + cell / 2;
    s += `<text x="${cx}" y="${top + gridW + 8}" text-anchor="end" transform="rotate(-45 ${cx} ${top + gridW + 8})">${esc(classNames[i]!)}</text>\n`;
  }
  s += `<text x="${n2(left + gridW / 2)}" y="${height - 8}" text-anchor="middle" font-weight="bold">Predicted</text>\n`;
  s += `<text x="14" y="${n2(top + gridW / 2)}" text-anchor="middle" font-weight="bold" transform="rotate(-90 14 ${n2(top + gridW / 2)})">True</text>\n`;
  return `${s}</svg>\n`;
}

/** Round tick step (1, 2 or 5 × 10^k) giving about `count` intervals over span. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

function panel(x0: number, y0: number, w: number, h: number, name: string, train: number[], val: number[], legendLow: boolean, fixed?: [number, number]): string {
  const epochs = train.length;
  const finite = [...train, ...val].filter(Number.isFinite);
  let [lo, hi] = fixed ?? [Math.min(0, ...finite), finite.length ? Math.max(...finite) : 1];
  if (!(hi > lo)) hi = lo + 1;
  const yStep = niceStep(hi - lo, 5);
  if (!fixed) hi = Math.ceil(hi / yStep) * yStep;
  const px = (e: number) => x0 + (epochs > 1 ? ((e - 1) / (epochs - 1)) * w : w / 2);
  const py = (v: number) => y0 + h - ((v - lo) / (hi - lo)) * h;
  let s = `<g>\n<text x="${n2(x0 + w / 2)}" y="${y0 - 12}" text-anchor="middle" font-size="14" font-weight="bold">${esc(name)}</text>\n`;
  s += `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#333333"/>\n`;
  for (let v = lo; v <= hi + yStep * 1e-9; v += yStep) {
    const y = n2(py(v));
    s += `<line x1="${x0}" y1="${y}" x2="${x0 + w}" y2="${y}" stroke="#e5e5e5"/><text x="${x0 - 6}" y="${n2(py(v) + 4)}" text-anchor="end">${formatFixed(v, yStep < 1 ? Math.min(6, Math.ceil(-Math.log10(yStep))) : 0)}</text>\n`;
  }
  const xStep = Math.max(1, Math.round(niceStep(Math.max(1, epochs - 1), 8)));
  const xTicks = [1];
  for (let e = xStep; e <= epochs; e += xStep) if (e > 1) xTicks.push(e);
  for (const e of xTicks) {
    s += `<text x="${n2(px(e))}" y="${y0 + h + 16}" text-anchor="middle">${e}</text>\n`;
  }
  s += `<text x="${n2(x0 + w / 2)}" y="${y0 + h + 34}" text-anchor="middle">epoch</text>\n`;
  const series = (vals: number[], color: string, dash: string) => {
    // A non-finite value (a diverged epoch) breaks the line instead of poisoning the path.
    let d = '';
    let pen = false;
    vals.forEach((v, i) => {
      if (!Number.isFinite(v)) return void (pen = false);
      d += `${pen ? 'L' : 'M'}${n2(px(i + 1))} ${n2(py(Math.min(hi, Math.max(lo, v))))} `;
      pen = true;
    });
    let out = d ? `<path d="${d.trim()}" fill="none" stroke="${color}" stroke-width="2"${dash}/>\n` : '';
    if (vals.length === 1 && Number.isFinite(vals[0]!)) out += `<circle cx="${n2(px(1))}" cy="${n2(py(vals[0]!))}" r="3" fill="${color}"/>\n`;
    return out;
  };
  s += series(train, '#1f77b4', '');
  s += series(val, '#ff7f0e', ' stroke-dasharray="6 4"');
  if (epochs === 0) s += `<text x="${n2(x0 + w / 2)}" y="${n2(y0 + h / 2)}" text-anchor="middle" fill="#888888">no epochs yet</text>\n`;
  // The legend sits where the curves usually are not: low for rising accuracy, high for falling loss.
  const lx = x0 + w - 120;
  const ly = legendLow ? y0 + h - 52 : y0 + 8;
  s += `<rect x="${lx}" y="${ly}" width="112" height="44" fill="#ffffff" stroke="#bbbbbb"/>`;
  s += `<line x1="${lx + 8}" y1="${ly + 14}" x2="${lx + 36}" y2="${ly + 14}" stroke="#1f77b4" stroke-width="2"/><text x="${lx + 42}" y="${ly + 18}">train</text>`;
  s += `<line x1="${lx + 8}" y1="${ly + 32}" x2="${lx + 36}" y2="${ly + 32}" stroke="#ff7f0e" stroke-width="2" stroke-dasharray="6 4"/><text x="${lx + 42}" y="${ly + 36}">validation</text>\n`;
  return `${s}</g>\n`;
}

/** Two panels, accuracy and loss, train against validation, one point per epoch. */
export function trainingCurvesSvg(history: readonly CurvePoint[]): string {
  const w = 400;
  const h = 260;
  let s = svgOpen(2 * w + 150, h + 100, 'Training curves');
  s += panel(60, 40, w, h, 'Accuracy', history.map((e) => e.accuracy), history.map((e) => e.val_accuracy), true, [0, 1]);
  s += panel(60 + w + 70, 40, w, h, 'Loss', history.map((e) => e.loss), history.map((e) => e.val_loss), false);
  const lr = history.at(-1)?.lr;
  if (lr !== undefined) s += `<text x="${2 * w + 140}" y="${h + 92}" text-anchor="end" fill="#555555">final learning rate ${esc(lr.toExponential(2))}</text>\n`;
  return `${s}</svg>\n`;
}
