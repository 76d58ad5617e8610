// What the page draws: the log-mel spectrogram of a window (one canvas pixel per
// mel band and frame, from the front end's scaled output) and a timeline of class
// probabilities as stacked bands.

/** One colour per class, in class order (distinguishable, and legible on the dark page). */
export const CLASS_COLOURS = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4'];

export function colourOf(i: number): string {
  return CLASS_COLOURS[i % CLASS_COLOURS.length]!;
}

/** Magma-like colour map: a few control points of matplotlib's magma, interpolated into 256 entries. */
const MAP: Uint8ClampedArray = (() => {
  const stops: [number, number, number][] = [
    [0, 0, 4],
    [40, 11, 84],
    [101, 21, 110],
    [159, 42, 99],
    [212, 72, 66],
    [245, 125, 21],
    [250, 193, 39],
    [252, 253, 191],
  ];
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(x));
    const t = x - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = stops[k]![c]! * (1 - t) + stops[k + 1]![c]! * t;
  }
  return lut;
})();

/**
 * Draws a [nMels][frames] spectrogram scaled to [0, 1] — the front end's
 * `scaled` output, which is also what the network's input is cut from — with
 * time to the right and low frequencies at the bottom.
 */
export function drawSpectrogram(canvas: HTMLCanvasElement, scaled: Float32Array, frames: number, nMels: number): void {
  canvas.width = frames;
  canvas.height = nMels;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(frames, nMels);
  for (let m = 0; m < nMels; m++) {
    const y = nMels - 1 - m;
    for (let t = 0; t < frames; t++) {
      const v = Math.round(Math.min(1, Math.max(0, scaled[m * frames + t]!)) * 255);
      const o = (y * frames + t) * 4;
      img.data[o] = MAP[v * 3]!;
      img.data[o + 1] = MAP[v * 3 + 1]!;
      img.data[o + 2] = MAP[v * 3 + 2]!;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

export interface TimelineEntry {
  /** Seconds: the span of time this prediction stands for. */
  from: number;
  to: number;
  probs: ArrayLike<number>;
}

/**
 * Stacked probability bands over [t0, t1] seconds, one colour per class (the top
 * class of each entry lowest), with a labelled tick every 10 s (60 s past two
 * minutes): counted back from t1 ("now", "-10 s", …) when `live`, else the
 * seconds of a file.
 */
export function drawTimeline(canvas: HTMLCanvasElement, entries: readonly TimelineEntry[], t0: number, t1: number, live: boolean): void {
  const scale = globalThis.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * scale));
  const h = Math.max(1, Math.round(canvas.clientHeight * scale));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, w, h);
  const x = (t: number): number => ((t - t0) / (t1 - t0)) * w;
  for (const e of entries) {
    if (e.to < t0 || e.from > t1) continue;
    const left = Math.max(0, x(e.from));
    const right = Math.min(w, x(e.to));
    const order = Array.from(e.probs, (p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
    let y = h;
    for (const [p, i] of order) {
      const bh = p * h;
      ctx.fillStyle = colourOf(i);
      ctx.fillRect(left, y - bh, Math.max(1, right - left), bh);
      y -= bh;
    }
  }
  const step = t1 - t0 > 120 ? 60 : 10;
  ctx.font = `${Math.round(11 * scale)}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  const ticks: number[] = [];
  if (live) for (let t = t1; t >= t0; t -= step) ticks.push(t);
  else for (let t = t0; t <= t1; t += step) ticks.push(t);
  const label = (t: number): string => (!live ? `${t.toFixed(0)} s` : t === t1 ? 'now' : `${(t - t1).toFixed(0)} s`);
  // Labels that would overlap the one before are left out (narrow screens).
  let free = live ? Infinity : -Infinity;
  for (const t of ticks) {
    const px = Math.min(w - 1, Math.round(x(t)));
    ctx.fillStyle = 'rgba(255,255,255,0.35)';
    ctx.fillRect(px, 0, 1, h);
    const s = label(t);
    const tw = ctx.measureText(s).width;
    const at = Math.max(2, Math.min(w - tw - 2, px + 3));
    if (live ? at + tw + 4 > free : at < free) continue;
    ctx.fillStyle = 'rgba(255,255,255,0.7)';
    ctx.fillText(s, at, 3);
    free = live ? at : at + tw + 4;
  }
}
