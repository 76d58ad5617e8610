// The layers point one way: shaders ← kernels ← autograd ← model ← train ← cli and web, with
// dsp and data beside them, util under everything, and the float64 references in
// src/ref standing alone (they must load without Dawn). bench/ and test/ sit beside
// src/ and import from it, never the other way, except `ser bench`, the command
// that runs bench/ (dynamic imports only, so no other command loads a peer).
// Read from the import statements of every source file; no GPU.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = 'src';

/** What each folder of src/ may import at run time (type-only imports are erased and not counted). */
const ALLOWED: Record<string, string[]> = {
  util: ['util'],
  ref: ['ref', 'util'],
  kernels: ['kernels', 'util'],
  dsp: ['dsp', 'kernels', 'util'],
  autograd: ['autograd', 'kernels', 'util'],
  model: ['model', 'autograd', 'kernels', 'util'],
  data: ['data', 'dsp', 'util'],
  train: ['train', 'model', 'autograd', 'kernels', 'data', 'dsp', 'util'],
  cli: ['cli', 'train', 'model', 'autograd', 'kernels', 'data', 'dsp', 'ref', 'util'],
  // The web page: an entry point beside cli, on the same layers (minus the corpora and the references).
  web: ['web', 'train', 'model', 'autograd', 'kernels', 'dsp', 'util'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Import {
  from: string;
  to: string;
  dynamic: boolean;
  line: number;
}

/** Run-time imports of a file: `import … from`, `export … from`, `import(…)`; not `import type`. */
function importsOf(file: string): Import[] {
  const out: Import[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const s = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/.exec(text);
      if (s) out.push({ from: file, to: s[1]!, dynamic: false, line: i + 1 });
      for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ from: file, to: m[1]!, dynamic: true, line: i + 1 });
    });
  return out;
}

/** A relative import's target as a repository path (`.js` → `.ts`), or the bare package name. */
function resolved(imp: Import): string {
  if (!imp.to.startsWith('.')) return imp.to;
  return normalize(join(dirname(imp.from), imp.to)).replace(/\.js$/, '.ts');
}

const layerOf = (path: string): string | null => (path.startsWith(`${SRC}/`) ? path.split('/')[1]! : null);

/**
 * Plain-data modules any layer may use: shape objects and their output sizes, the
 * network's layer table and Keras' defaults (src/model/architecture.ts), and the mel
 * filterbank (checked against librosa's own matrix in test/melspec.test.ts).
 */
const SHARED = (path: string): boolean =>
  /^src\/kernels\/\w+_shape\.ts$/.test(path) || path === 'src/dsp/mel.ts' || path === 'src/model/architecture.ts';

describe('module layers', () => {
  const all = files(SRC);
  const graph = new Map(all.map((f) => [f, importsOf(f)]));

  it('parses imports (at least one per file outside util)', () => {
    const withImports = all.filter((f) => graph.get(f)!.length > 0);
    expect(withImports.length).toBeGreaterThan(all.length / 2);
    expect(importsOf('src/train/fit.ts').map(resolved)).toContain('src/kernels/gpu.ts');
  });

  it('every folder of src/ imports only the layers below it', () => {
    const bad: string[] = [];
    for (const [file, imps] of graph) {
      const layer = layerOf(file)!;
      const allowed = ALLOWED[layer];
      expect(allowed, `${file}: folder ${layer} has no entry in ALLOWED`).toBeDefined();
      for (const imp of imps) {
        const target = resolved(imp);
        if (target.startsWith('bench/')) {
          // `ser bench` runs the benchmarks; nothing else in src/ may reach bench/, and it only lazily.
          if (!(file === 'src/cli/bench.ts' && imp.dynamic)) bad.push(`${file}:${imp.line} imports ${imp.to} (bench/ sits beside src/)`);
          continue;
        }
        const tl = layerOf(target);
        if (tl && !allowed!.includes(tl) && !SHARED(target)) bad.push(`${file}:${imp.line} (${layer}) imports ${relative('.', target)} (${tl})`);
      }
    }
    expect(bad, bad.join('\n')).toEqual([]);
  });

  /**
   * Every src/ file reachable from `roots` by run-time imports, and the import chains that
   * reach a forbidden module (the chain is the failure message).
   */
  function reach(roots: string[], forbidden: string[]): { seen: Set<string>; bad: string[] } {
    const seen = new Set<string>();
    const chains = new Map(roots.map((f) => [f, [f]]));
    const stack = [...roots];
    const bad: string[] = [];
    while (stack.length) {
      const f = stack.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      for (const imp of graph.get(f) ?? []) {
        const t = resolved(imp);
        const chain = [...chains.get(f)!, t];
        if (forbidden.includes(t)) bad.push(chain.join(' → '));
        else if (t.startsWith('src/') && !chains.has(t)) {
          chains.set(t, chain);
          stack.push(t);
        }
      }
    }
    return { seen, bad };
  }

  it('the float64 references load without Dawn: nothing reachable from src/ref imports webgpu or the GPU runtime', () => {
    const { seen, bad } = reach(all.filter((f) => f.startsWith('src/ref/')), ['webgpu', 'src/kernels/gpu.ts', 'src/kernels/kernel.ts']);
    expect(bad, bad.join('\n')).toEqual([]);
    // The walk did reach beyond src/ref (the pure shape modules), so it would see a bad import there.
    expect([...seen].some((f) => f.startsWith('src/kernels/'))).toBe(true);
  });

  it('the page loads without Dawn: nothing reachable from src/web imports webgpu, the Node GPU entry or the Vulkan driver lookup', () => {
    // The page's two bundle entries (src/cli/web-bundle.ts).
    const { seen, bad } = reach(['src/web/app.ts', 'src/web/capture-worklet.ts'], ['webgpu', 'src/kernels/gpu.ts', 'src/kernels/vulkan-icd.ts']);
    expect(bad, bad.join('\n')).toEqual([]);
    // The walk reached the kernels, the model and the engine the command line runs.
    for (const f of ['src/kernels/gpu-core.ts', 'src/kernels/conv3d.ts', 'src/model/ser3dcnn.ts', 'src/train/engine.ts', 'src/dsp/frontend.ts']) expect(seen.has(f), f).toBe(true);
    // The shared GPU runtime itself uses no Node module at all (the page's bundle stubs those of other shared files).
    for (const f of ['src/kernels/gpu-core.ts', 'src/kernels/gpu-browser.ts', 'src/kernels/kernel.ts']) {
      expect(graph.get(f)!.filter((i) => i.to.startsWith('node:')).map((i) => `${f}:${i.line} ${i.to}`)).toEqual([]);
    }
  });
});
