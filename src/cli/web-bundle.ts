// The web page as `ser serve` hands it out: web/index.html and web/style.css as
// they are on disk, and src/web/app.ts and its AudioWorklet bundled by esbuild
// from the same src/ modules the command line runs. Three esbuild plugins keep the
// bundle honest:
//   - `ser:shaders` is a module generated from shaders/*.wgsl (every file, as text),
//     so the page compiles exactly the WGSL on disk, includes expanded by the same
//     function (expandIncludes in src/kernels/gpu-core.ts);
//   - Dawn's Node bindings (`webgpu`) may not be imported at all: the page gets its
//     device from navigator.gpu (src/kernels/gpu-browser.ts);
//   - `node:*` modules that shared files import for their Node-only functions (the
//     checkpoint writer, the WAV file reader) become stubs that throw if called,
//     with the function's name, so a Node-only path reached from the page fails
//     loudly instead of silently.
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { context, type BuildContext, type Plugin } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHADERS = join(ROOT, 'shaders');
const WEB = join(ROOT, 'web');

export interface WebAsset {
  type: string;
  body: Uint8Array;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

function typeOf(name: string): string {
  return TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
}

/** Every shaders/*.wgsl file's text by file name (the page's and the portable build's copy of shaders/). */
export async function readShaderFiles(): Promise<Record<string, string>> {
  const files = (await readdir(SHADERS)).filter((f) => f.endsWith('.wgsl')).sort();
  const table: Record<string, string> = {};
  for (const f of files) table[f] = await readFile(join(SHADERS, f), 'utf8');
  return table;
}

const shadersPlugin: Plugin = {
  name: 'ser-shaders',
  setup(b) {
    b.onResolve({ filter: /^ser:shaders$/ }, () => ({ path: 'shaders', namespace: 'ser-shaders' }));
    b.onLoad({ filter: /.*/, namespace: 'ser-shaders' }, async () => {
      const table = await readShaderFiles();
      return { contents: `export default ${JSON.stringify(table)};`, loader: 'js', watchFiles: Object.keys(table).map((f) => join(SHADERS, f)) };
    });
  },
};

const nodeStubsPlugin: Plugin = {
  name: 'ser-node-stubs',
  setup(b) {
    b.onResolve({ filter: /^webgpu$/ }, (args) => ({
      errors: [{ text: `${args.importer} imports Dawn's Node bindings; the page must get its GPU from src/kernels/gpu-browser.ts` }],
    }));
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'ser-node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'ser-node-stub' }, async (args) => {
      // The stub exports every name the real module has, each a function that says what was called.
      const names = Object.keys((await import(args.path)) as object).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
      const body = names.map((n) => `export function ${n}() { throw new Error(${JSON.stringify(`${args.path} ${n}() is not available in the browser`)}); }`);
      return { contents: [...body, 'export default {};'].join('\n'), loader: 'js' };
    });
  },
};

let ctx: Promise<BuildContext> | null = null;

/** esbuild's incremental context for the page's two scripts (created once per process). */
function buildContext(): Promise<BuildContext> {
  ctx ??= context({
    entryPoints: { app: join(ROOT, 'src/web/app.ts'), 'capture-worklet': join(ROOT, 'src/web/capture-worklet.ts') },
    bundle: true,
    write: false,
    // Never written (write: false); it makes the source maps' paths relative to the repository.
    outdir: join(ROOT, 'dist', 'web'),
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Readable output with source maps, so the page's sources — kernels included — can be read in the browser's devtools.
    sourcemap: 'linked',
    sourcesContent: true,
    logLevel: 'silent',
    plugins: [shadersPlugin, nodeStubsPlugin],
  });
  return ctx;
}

/**
 * Builds the page: every file it consists of by URL path (`/`, `/app.js`, …).
 * Incremental: after the first call, a rebuild takes milliseconds, so `ser serve`
 * rebuilds on every page load and an edited shader is live after a reload.
 */
export async function bundleWeb(): Promise<Map<string, WebAsset>> {
  const result = await (await buildContext()).rebuild();
  const assets = new Map<string, WebAsset>();
  for (const f of result.outputFiles ?? []) {
    const name = `/${f.path.split('/').pop()!}`;
    assets.set(name, { type: typeOf(name), body: f.contents });
  }
  for (const f of ['index.html', 'style.css']) {
    assets.set(f === 'index.html' ? '/' : `/${f}`, { type: typeOf(f), body: await readFile(join(WEB, f)) });
  }
  return assets;
}

/** Ends esbuild's service (so a test or a one-shot command can exit). */
export async function disposeWebBundle(): Promise<void> {
  const c = ctx;
  ctx = null;
  if (c) await (await c).dispose();
}
