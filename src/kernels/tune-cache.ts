// Where `ser tune`'s choices live between runs (Node only): one JSON file, choices filed
// per adapter (vendor, architecture, device, description — the driver version is part
// of lavapipe's and most drivers' description) and per version of the conv3d shaders
// and of the candidate list (a hash of both), so a new driver, a changed kernel or a
// new candidate is tuned afresh.
//
//   $SER_TUNE_CACHE, else $XDG_CACHE_HOME/ser-webgpu/conv3d-tuning.json,
//   else ~/.cache/ser-webgpu/conv3d-tuning.json
//
// SER_TUNE=0 turns both loading and automatic tuning off (the dispatchers' defaults run).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Gpu } from './gpu-core.js';
import type { Conv3dOptions } from './conv3d_blocking.js';
import { conv3dCandidates, tuneConv3d, type Conv3dTuneResult } from './conv3d_tune.js';
import { conv3dTuneKey, type Conv3dPass, type Conv3dShape } from './conv3d_shape.js';

const FORMAT = 1;

/** The shaders whose choice is tuned; a change to any of them invalidates the cache entry. */
const TUNED_SHADERS = [
  'conv3d_forward', 'conv3d_forward_subgroup', 'conv3d_forward_tiled', 'conv3d_forward_rows',
  'conv3d_backward_input', 'conv3d_backward_input_subgroup', 'conv3d_backward_input_tiled',
  'conv3d_backward_weight', 'conv3d_backward_weight_subgroup', 'conv3d_backward_weight_rows', 'conv3d_backward_reduce',
  'conv3d_flip_weights', 'conv3d_winograd_weights', 'conv3d_winograd_input', 'conv3d_winograd_output', 'conv3d_winograd_dy', 'conv3d_winograd_dw',
];

/** Layer shapes (the report's conv3 and conv1) whose candidate lists enter the hash too. */
const CANDIDATE_PROBES: Conv3dShape[] = [
  { n: 8, d: 3, h: 32, w: 15, cin: 128, cout: 256, kd: 1, kh: 3, kw: 3, padding: 'same' },
  { n: 8, d: 3, h: 128, w: 60, cin: 1, cout: 64, kd: 1, kh: 5, kw: 5, padding: 'same' },
];

interface CacheEntry {
  shaders: string;
  tunedAt: string;
  choices: Record<string, { label: string; options: Conv3dOptions; ms: number; batch: number; defaultMs: number | null }>;
}

interface CacheFile {
  format: number;
  adapters: Record<string, CacheEntry>;
}

export function tuneCachePath(): string {
  if (process.env.SER_TUNE_CACHE) return process.env.SER_TUNE_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'ser-webgpu', 'conv3d-tuning.json');
}

export function tuningEnabled(): boolean {
  return process.env.SER_TUNE !== '0';
}

/** The adapter as the cache files it. */
export function adapterKey(gpu: Gpu): string {
  const a = gpu.summary;
  return [a.vendor, a.architecture, a.device, a.description, a.backend].join(' | ');
}

/**
 * How candidates are timed, part of the hash too: choices timed while Dawn's polling
 * loop kept a core busy (before gpuWait, src/kernels/gpu-wait.ts) favoured kernels of
 * many small dispatches that lose once both cores compute (docs/PERFORMANCE.md), so
 * caches from then are tuned afresh.
 */
const TIMING = 'gpuWait';

function shaderHash(gpu: Gpu): string {
  const h = createHash('sha256');
  h.update(TIMING);
  for (const name of TUNED_SHADERS) h.update(gpu.shaderSource(name));
  for (const s of CANDIDATE_PROBES) {
    for (const direction of ['forward', 'backward_input', 'backward_weight'] as const) h.update(JSON.stringify(conv3dCandidates(gpu, direction, s)));
  }
  return h.digest('hex').slice(0, 16);
}

function readCache(path: string): CacheFile {
  if (!existsSync(path)) return { format: FORMAT, adapters: {} };
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
    if (c.format === FORMAT && c.adapters && typeof c.adapters === 'object') return c;
  } catch {
    // fall through: an unreadable cache is tuned afresh, not fatal
  }
  process.stderr.write(`ser: ignoring the unreadable tuning cache ${path}; \`ser tune\` rewrites it\n`);
  return { format: FORMAT, adapters: {} };
}

/**
 * Loads this adapter's choices (for the current shaders) into gpu.conv3dTuning;
 * returns how many there were.
 */
export function loadConv3dTuning(gpu: Gpu, path = tuneCachePath()): number {
  const entry = readCache(path).adapters[adapterKey(gpu)];
  if (!entry || entry.shaders !== shaderHash(gpu)) return 0;
  for (const [key, c] of Object.entries(entry.choices)) gpu.conv3dTuning.set(key, c.options);
  return Object.keys(entry.choices).length;
}

/** Files tuning results under this adapter, keeping its other shapes' choices; written atomically. */
export function saveConv3dTuning(gpu: Gpu, results: Conv3dTuneResult[], path = tuneCachePath()): void {
  const cache = readCache(path);
  const key = adapterKey(gpu);
  const hash = shaderHash(gpu);
  const old = cache.adapters[key];
  const entry: CacheEntry = old && old.shaders === hash ? old : { shaders: hash, tunedAt: '', choices: {} };
  entry.tunedAt = new Date().toISOString();
  for (const r of results) {
    entry.choices[r.key] = { label: r.winner.label, options: r.winner.options, ms: r.winner.ms, batch: r.shape.n, defaultMs: r.baseline.ms };
  }
  cache.adapters[key] = entry;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(cache, null, 2)}\n`);
  renameSync(tmp, path);
}

export interface TuneNetworkOptions {
  /** Tune shapes that already have a choice too. */
  force?: boolean;
  /** Skip backward_input of these layer indices (the first layer's input needs no gradient). */
  skipBackwardInput?: number[];
  repeats?: number;
  /** Called before each shape is tuned: (done, total, what). */
  onProgress?: (done: number, total: number, what: string) => void;
  path?: string;
}

/**
 * Tunes every conv3d layer of `shapes` in its three passes (those without a choice
 * for this adapter unless `force`), files the winners in gpu.conv3dTuning and saves
 * them to the cache. Returns the results of the shapes it tuned.
 */
export async function tuneNetwork(gpu: Gpu, shapes: Conv3dShape[], opts: TuneNetworkOptions = {}): Promise<Conv3dTuneResult[]> {
  const jobs: { direction: Conv3dPass; s: Conv3dShape; layer: number }[] = [];
  shapes.forEach((s, layer) => {
    for (const direction of ['forward', 'backward_input', 'backward_weight'] as const) {
      if (direction === 'backward_input' && opts.skipBackwardInput?.includes(layer)) continue;
      if (!opts.force && gpu.conv3dTuning.has(conv3dTuneKey(direction, s))) continue;
      jobs.push({ direction, s, layer });
    }
  });
  const results: Conv3dTuneResult[] = [];
  for (const [i, j] of jobs.entries()) {
    const what = `conv${j.layer + 1} ${j.direction}`;
    opts.onProgress?.(i, jobs.length, what);
    results.push(await tuneConv3d(gpu, j.direction, j.s, { repeats: opts.repeats }));
    // Saved after each shape, so an interrupted tuning keeps what it measured.
    saveConv3dTuning(gpu, results.slice(-1), opts.path);
  }
  if (jobs.length > 0) opts.onProgress?.(jobs.length, jobs.length, 'done');
  return results;
}
