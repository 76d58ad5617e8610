// The page: GPU and model at load, then the microphone (a prediction of the last
// window every half second, a timeline of the last minute) and files (one result
// per window, exactly as `ser predict --json` prints them). Every number comes from
// src/web/session.ts, which runs the command line's code; this file only wires the
// DOM. The page's state is in <body data-state> (loading, ready, error) for scripts.
import { createBrowserGpu } from '../kernels/gpu-browser.js';
import { conv3dKernel } from '../kernels/conv3d_blocking.js';
import { resample } from '../dsp/resample.js';
import { topK, type Top } from '../train/predict.js';
import { SHADERS } from './shaders.js';
import { loadSession, predictFile, predictWindow, type FilePrediction, type Session } from './session.js';
import { Microphone } from './mic.js';
import { colourOf, drawSpectrogram, drawTimeline, type TimelineEntry } from './draw.js';
import { describeError, PageError } from './errors.js';

/** Seconds between live predictions. */
const LIVE_STEP = 0.5;
/** Seconds of live history the timeline shows. */
const TIMELINE_SPAN = 60;
/** Extra seconds of audio before the window, so the resampler's start-up lies outside it. */
const RESAMPLE_MARGIN = 0.05;

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page element #${id} is missing`);
  return e as T;
}

const ui = {
  adapter: el('adapter'),
  model: el('model'),
  latency: el('latency'),
  message: el('message'),
  mic: el<HTMLButtonElement>('mic'),
  open: el<HTMLButtonElement>('open'),
  file: el<HTMLInputElement>('file'),
  nowWhen: el('now-when'),
  top3: el<HTMLOListElement>('top3'),
  spectrogram: el<HTMLCanvasElement>('spectrogram'),
  spectrogramCaption: el('spectrogram-caption'),
  timeline: el<HTMLCanvasElement>('timeline'),
  legend: el('legend'),
  liveJson: el('live-json'),
  fileResult: el('file-result'),
  fileTitle: el('file-title'),
  fileTop3: el<HTMLOListElement>('file-top3'),
  fileTimeline: el<HTMLCanvasElement>('file-timeline'),
  windows: el<HTMLTableSectionElement>('windows-body'),
  fileJson: el('file-json'),
};

let session: Session | null = null;

function setState(state: 'loading' | 'ready' | 'error'): void {
  document.body.dataset.state = state;
}

function showMessage(e: unknown): void {
  const d = describeError(e);
  ui.message.textContent = d.message;
  ui.message.hidden = false;
  if (d.unexpected) console.error('ser: unexpected error', e);
}

function clearMessage(): void {
  ui.message.hidden = true;
  ui.message.textContent = '';
}

function renderTop(list: HTMLOListElement, top: readonly Top[]): void {
  list.replaceChildren(
    ...top.map((t) => {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.className = 'emotion';
      name.textContent = t.emotion;
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('span');
      fill.style.width = `${(t.probability * 100).toFixed(1)}%`;
      fill.style.background = colourOf(session?.classes.indexOf(t.emotion) ?? 0);
      bar.append(fill);
      const pct = document.createElement('span');
      pct.className = 'pct';
      pct.textContent = `${(t.probability * 100).toFixed(1)} %`;
      li.append(name, bar, pct);
      return li;
    }),
  );
}

function renderLegend(classes: readonly string[]): void {
  ui.legend.replaceChildren(
    ...classes.map((c, i) => {
      const s = document.createElement('span');
      const sw = document.createElement('i');
      sw.style.background = colourOf(i);
      s.append(sw, c);
      return s;
    }),
  );
}

function showSpectrogram(scaled: Float32Array, frames: number, caption: string): void {
  drawSpectrogram(ui.spectrogram, scaled, frames, session!.frontend.settings.nMels);
  ui.spectrogramCaption.textContent = caption;
  ui.spectrogram.setAttribute('aria-label', `log-mel spectrogram, ${caption}`);
}

function adapterName(s: Session): string {
  const a = s.gpu.summary;
  return a.description || [a.vendor, a.architecture, a.device].filter((x) => x && x !== 'unknown').join(' ') || 'unnamed adapter';
}

// ---- Live: microphone -------------------------------------------------------------

let mic: Microphone | null = null;
let running = false;
const live: TimelineEntry[] = [];
let liveNow = 0;

function drawLiveTimeline(): void {
  drawTimeline(ui.timeline, live, liveNow - TIMELINE_SPAN, liveNow, true);
}

async function liveLoop(m: Microphone, s: Session): Promise<void> {
  // The raw samples that cover a window at the model's rate, plus the resampler's margin.
  const raw = Math.ceil((s.window / s.sampleRate + RESAMPLE_MARGIN) * m.rate);
  const step = Math.round(LIVE_STEP * m.rate);
  let last = -Infinity;
  ui.nowWhen.textContent = `listening — the first window fills in ${(s.window / s.sampleRate).toFixed(1)} s`;
  while (running && mic === m) {
    if (m.total < raw || m.total - last < step) {
      await new Promise((ok) => setTimeout(ok, 40));
      continue;
    }
    last = m.total;
    const audio = resample(m.latest(raw), m.rate, s.sampleRate);
    const p = await predictWindow(s, audio.slice(audio.length - s.window));
    if (!running || mic !== m) break;
    const end = last / m.rate;
    const start = end - s.window / s.sampleRate;
    const top = topK(p.probs, s.classes);
    renderTop(ui.top3, top);
    ui.nowWhen.textContent = `${start.toFixed(1)}–${end.toFixed(1)} s`;
    ui.liveJson.textContent = JSON.stringify({ start, end, top });
    ui.latency.textContent = `${p.ms.toFixed(1)} ms / window`;
    ui.latency.dataset.msPerWindow = String(p.ms);
    showSpectrogram(p.scaled, p.frames, `microphone, ${start.toFixed(1)}–${end.toFixed(1)} s`);
    // A prediction stands for its window, except what the previous one already covers; a gap (a slow first window) stays empty.
    live.push({ from: Math.max(start, live.length ? live[live.length - 1]!.to : start), to: end, probs: p.probs });
    while (live.length && live[0]!.to < end - TIMELINE_SPAN) live.shift();
    liveNow = end;
    drawLiveTimeline();
  }
}

async function startMic(): Promise<void> {
  const s = session;
  if (!s || mic) return;
  ui.mic.disabled = true;
  clearMessage();
  try {
    const m = await Microphone.open(s.window / s.sampleRate + RESAMPLE_MARGIN + 1, () => {
      showMessage(new PageError('The microphone stopped (unplugged, or taken by another program). Press Start to try again.'));
      stopMic();
    });
    mic = m;
    running = true;
    ui.mic.textContent = 'Stop microphone';
    ui.mic.dataset.on = '';
    live.length = 0;
    liveLoop(m, s).catch((e: unknown) => {
      showMessage(e);
      stopMic();
    });
  } catch (e) {
    showMessage(e);
  } finally {
    ui.mic.disabled = false;
  }
}

function stopMic(): void {
  running = false;
  mic?.close();
  mic = null;
  ui.mic.textContent = 'Start microphone';
  delete ui.mic.dataset.on;
  if (ui.nowWhen.textContent?.startsWith('listening')) ui.nowWhen.textContent = '';
}

// ---- Files --------------------------------------------------------------------------

let filesShown = 0;

function showFile(f: FilePrediction): void {
  const { record, prediction } = f;
  const n = prediction.probs.length;
  ui.fileResult.hidden = false;
  // Counts results, so that a script can tell a new one from the same file's last.
  ui.fileResult.dataset.count = String(++filesShown);
  ui.fileTitle.textContent = `${record.file} (${record.seconds.toFixed(2)} s, ${n} window${n > 1 ? 's' : ''})`;
  renderTop(ui.fileTop3, record.top);
  ui.fileJson.textContent = JSON.stringify(record);
  ui.latency.textContent = `${(f.ms / n).toFixed(1)} ms / window (${n} in one pass)`;
  ui.latency.dataset.msPerWindow = String(f.ms / n);
  const sr = session!.sampleRate;
  const windowSeconds = session!.window / sr;
  const select = (i: number): void => {
    const spec = prediction.spectrograms![i]!;
    const from = prediction.starts[i]! / sr;
    showSpectrogram(spec.scaled, spec.frames, `${record.file}, ${from.toFixed(1)}–${Math.min(record.seconds, from + windowSeconds).toFixed(1)} s`);
    for (const [j, row] of Array.from(ui.windows.rows).entries()) row.classList.toggle('selected', j === i);
  };
  ui.windows.replaceChildren(
    ...prediction.probs.map((p, i) => {
      const from = prediction.starts[i]! / sr;
      const to = Math.min(record.seconds, from + windowSeconds);
      const row = document.createElement('tr');
      const when = document.createElement('td');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = `${from.toFixed(1)}–${to.toFixed(1)} s`;
      b.addEventListener('click', () => select(i));
      when.append(b);
      const tops = document.createElement('td');
      tops.textContent = topK(p, session!.classes)
        .map((t) => `${t.emotion} ${(t.probability * 100).toFixed(0)} %`)
        .join(', ');
      row.append(when, tops);
      return row;
    }),
  );
  // The timeline of the file: each window stands for the half of it no neighbour covers better.
  const hop = windowSeconds / 2;
  const entries = prediction.probs.map((probs, i) => {
    const centre = prediction.starts[i]! / sr + windowSeconds / 2;
    return n === 1 ? { from: 0, to: record.seconds, probs } : { from: i === 0 ? 0 : centre - hop / 2, to: i === n - 1 ? record.seconds : centre + hop / 2, probs };
  });
  drawTimeline(ui.fileTimeline, entries, 0, Math.max(record.seconds, 1e-3), false);
  select(0);
}

async function openFile(file: File): Promise<void> {
  const s = session;
  if (!s) return;
  clearMessage();
  const shown = ui.fileTitle.textContent;
  ui.fileTitle.textContent = `${file.name}: working…`;
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    showFile(await predictFile(s, bytes, file.name));
  } catch (e) {
    showMessage(e);
    // The previous file's results stay, under their own title.
    ui.fileTitle.textContent = shown;
  }
}

// ---- Start-up -----------------------------------------------------------------------

async function init(): Promise<void> {
  setState('loading');
  ui.adapter.textContent = 'starting WebGPU…';
  const params = new URLSearchParams(location.search);
  try {
    const gpu = await createBrowserGpu(SHADERS, { subgroups: params.get('subgroups') !== '0' });
    ui.adapter.textContent = 'loading the model…';
    const s = await loadSession(gpu);
    // One silent window compiles every pipeline now, so the first real one is as fast as the rest.
    ui.adapter.textContent = 'compiling the kernels…';
    await predictWindow(s, new Float32Array(s.window));
    session = s;
    ui.adapter.textContent = `${adapterName(s)} · conv3d ${conv3dKernel(gpu)} kernels`;
    ui.model.textContent = `${s.classes.length} emotions, width ${s.config.width}, ${s.parameters.toLocaleString('en-US')} parameters`;
    renderLegend(s.classes);
    drawLiveTimeline();
    ui.nowWhen.textContent = '— press Start microphone, or open a file';
    ui.mic.disabled = false;
    ui.open.disabled = false;
    ui.file.disabled = false;
    setState('ready');
  } catch (e) {
    ui.adapter.textContent = 'not running';
    showMessage(e);
    setState('error');
  }
}

ui.mic.addEventListener('click', () => {
  if (mic) stopMic();
  else void startMic();
});
ui.open.addEventListener('click', () => ui.file.click());
ui.file.addEventListener('change', () => {
  const f = ui.file.files?.[0];
  if (f) void openFile(f);
  ui.file.value = '';
});
document.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', (ev) => {
  ev.preventDefault();
  document.body.classList.remove('dragging');
  const f = ev.dataTransfer?.files[0];
  if (f && session) void openFile(f);
});
window.addEventListener('resize', () => drawLiveTimeline());
// Anything not caught above still gets a sentence on the page.
window.addEventListener('error', (ev) => showMessage(ev.error ?? ev.message));
window.addEventListener('unhandledrejection', (ev) => showMessage(ev.reason));

void init();
