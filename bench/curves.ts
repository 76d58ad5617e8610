// One SVG panel of per-epoch curves from several runs of several engines: a thin line
// per run, a colour per engine, so both engines' validation curves can be read side by
// side (bench/emodb_results.ts).

export interface CurveGroup {
  label: string;
  color: string;
  /** One array of values in [0, 1] per run, one value per epoch. */
  runs: number[][];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function compareCurvesSvg(title: string, groups: CurveGroup[]): string {
  const [x0, y0, w, h] = [60, 50, 640, 300];
  const epochs = Math.max(2, ...groups.flatMap((g) => g.runs.map((r) => r.length)));
  const px = (e: number): string => (x0 + ((e - 1) / (epochs - 1)) * w).toFixed(1);
  const py = (v: number): string => (y0 + h - Math.min(1, Math.max(0, v)) * h).toFixed(1);
  // The legend's text, at about 7 px a character of 12-px sans-serif, must fit the canvas.
  const legend = groups.map((g) => `${g.label} (${g.runs.length} run${g.runs.length === 1 ? '' : 's'})`);
  const right = Math.max(180, 60 + 7 * Math.max(0, ...legend.map((t) => t.length)));
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${x0 + w + right}" height="${y0 + h + 60}" font-family="sans-serif" font-size="12">\n`;
  s += `<rect width="100%" height="100%" fill="#ffffff"/>\n<text x="${x0}" y="24" font-size="14" font-weight="bold">${esc(title)}</text>\n`;
  s += `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#333333"/>\n`;
  for (let v = 0; v <= 1.0001; v += 0.2) {
    s += `<line x1="${x0}" y1="${py(v)}" x2="${x0 + w}" y2="${py(v)}" stroke="#e5e5e5"/><text x="${x0 - 6}" y="${(Number(py(v)) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(1)}</text>\n`;
  }
  const step = Math.max(1, Math.round(epochs / 10 / 5) * 5 || 1);
  for (let e = 1; e <= epochs; e += e === 1 && step > 1 ? step - 1 : step) s += `<text x="${px(e)}" y="${y0 + h + 16}" text-anchor="middle">${e}</text>\n`;
  s += `<text x="${x0 + w / 2}" y="${y0 + h + 36}" text-anchor="middle">epoch</text>\n`;
  groups.forEach((g, gi) => {
    for (const r of g.runs) {
      const d = r.map((v, i) => `${i ? 'L' : 'M'}${px(i + 1)} ${py(v)}`).join(' ');
      if (d) s += `<path d="${d}" fill="none" stroke="${g.color}" stroke-opacity="0.7" stroke-width="1.5"/>\n`;
    }
    const ly = y0 + 10 + gi * 20;
    s += `<line x1="${x0 + w + 12}" y1="${ly}" x2="${x0 + w + 36}" y2="${ly}" stroke="${g.color}" stroke-width="2"/><text x="${x0 + w + 42}" y="${ly + 4}">${esc(legend[gi]!)}</text>\n`;
  });
  return `${s}</svg>\n`;
}
