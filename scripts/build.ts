// `npm run build`: the portable build of the `ser` command in dist/, which runs with
// nothing but a `node` binary (≥ 20) and node_modules/webgpu beside it — no npm, no
// tsx, no other packages, no network:
//
//   dist/ser.mjs              the command (src/cli/bin.ts) and every module it loads,
//                             bundled by esbuild; each subcommand a chunk beside it
//   dist/augment_worker.mjs   the augmentation worker thread of `ser train`
//   dist/gpu-report.sh        scripts/gpu-report.sh: the whole GPU report in one command
//   dist/torch_peer.py, dist/librosa_peer.py
//                             the Python peers, used only where Python has PyTorch or librosa
//
// src/util/bundle.ts is replaced by a module that says so and holds every shaders/*.wgsl
// file as text. Left out, and loaded only by the commands that need them: `webgpu`
// (Dawn's native bindings: node_modules/webgpu), TensorFlow.js (`ser bench --compare
// tfjs`) and esbuild (`ser serve`, which runs from a checkout only).
import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { readShaderFiles, ROOT } from '../src/cli/web-bundle.js';

const OUT = join(ROOT, 'dist');

/** The portable build's src/util/bundle.ts: BUNDLED true, shaders/ as text. */
const bundleInfo = (shaders: Record<string, string>): Plugin => ({
  name: 'ser-bundle-info',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]util[\\/]bundle\.ts$/ }, () => ({
      contents: `export const BUNDLED = true;\nexport const SHADER_FILES = ${JSON.stringify(shaders)};\n`,
      loader: 'js',
    }));
  },
});

export async function buildPortable(): Promise<string[]> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { ser: 'src/cli/bin.ts', augment_worker: 'src/data/augment_worker.ts' },
    bundle: true,
    // Each subcommand stays a chunk loaded on use, so that a package left out is needed only by the command that imports it.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
    // Chunks beside the entries: modules find their neighbours (the worker, the Python peers) relative to import.meta.url.
    chunkNames: '[name]-[hash]',
    external: ['webgpu', 'esbuild', '@tensorflow/*'],
    // Bundled CommonJS packages (pngjs) call require() for Node's own modules.
    banner: { js: "import { createRequire as __serCreateRequire } from 'node:module';\nconst require = __serCreateRequire(import.meta.url);" },
    plugins: [bundleInfo(await readShaderFiles())],
    metafile: true,
    logLevel: 'warning',
  });
  for (const [from, to] of [
    ['scripts/gpu-report.sh', 'gpu-report.sh'],
    ['bench/torch_peer.py', 'torch_peer.py'],
    ['bench/librosa_peer.py', 'librosa_peer.py'],
  ] as const) {
    copyFileSync(join(ROOT, from), join(OUT, to));
  }
  chmodSync(join(OUT, 'gpu-report.sh'), 0o755);
  return Object.keys(result.metafile.outputs).map((p) => p.replace(/^dist\//, ''));
}

const files = await buildPortable();
const bytes = files.reduce((t, f) => t + statSync(join(OUT, f)).size, 0);
console.log(`dist/: ser.mjs and ${files.length - 1} more files, ${(bytes / 2 ** 20).toFixed(1)} MiB, + gpu-report.sh and the Python peers`);
console.log('Runs where dist/ and node_modules/webgpu are copied side by side: node dist/ser.mjs doctor');
