// `ser serve`: the web page that recognises emotion in the browser — live from the
// microphone, or from WAV/AIFF files — with a trained run's model, on the same WGSL
// kernels and TypeScript as the command line (src/web/, bundled by web-bundle.ts).
// It serves a fixed set of paths: the page's files and the run's config.json and
// checkpoint. Nothing else of the run folder, nothing outside it, no listings.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { bundleWeb, disposeWebBundle, type WebAsset } from './web-bundle.js';
import { parseCommand, UsageError, type CommandDef, type OptionDef } from './args.js';

const SERVE = {
  usage: 'Usage: ser serve [RUN] [--port N] [--host ADDR]',
  about: `Serves a web page that recognises emotion in speech with RUN's model, in the
browser's WebGPU: live from the microphone, or from WAV/AIFF files dropped on the
page (one result per window, as \`ser predict\` prints them). The page runs the same
WGSL kernels and front end as the command line. Browsers offer WebGPU and the
microphone only to pages from localhost or https, so open the page on this
machine (or tunnel the port, e.g. ssh -L 8080:localhost:8080).`,
  positionalHelp: [{ name: 'RUN', help: 'a run folder holding best.safetensors and config.json, or a\ncheckpoint file with config.json beside it (default: runs/demo)' }],
  options: {
    port: { kind: 'int', arg: 'N', help: 'port; 0 picks a free one', default: 8080, min: 0, max: 65535 },
    host: { kind: 'string', arg: 'ADDR', help: 'address to listen on', default: '127.0.0.1' },
  },
  positionals: true,
} as const satisfies CommandDef<Record<string, OptionDef>>;

export interface ServedRun {
  /** The run folder (what `RUN` named, or the checkpoint's folder). */
  dir: string;
  checkpoint: string;
  config: string;
}

/** The run `RUN` names; without one, runs/demo. Errors say how to get a run. */
export function resolveRun(arg: string | undefined, cwd = process.cwd()): ServedRun {
  if (arg === undefined) {
    const demo = resolve(cwd, 'runs/demo');
    if (!existsSync(join(demo, 'best.safetensors'))) {
      throw new UsageError('no run to serve: runs/demo does not exist yet. Make it with `npm run demo` (a few minutes), or name a run folder: ser serve runs/NAME');
    }
    arg = demo;
  }
  const path = resolve(cwd, arg);
  if (!existsSync(path)) throw new UsageError(`no such run folder or checkpoint: ${arg}`);
  const isDir = statSync(path).isDirectory();
  const dir = isDir ? path : dirname(path);
  const checkpoint = isDir ? join(path, 'best.safetensors') : path;
  const config = join(dir, 'config.json');
  if (!existsSync(checkpoint)) throw new UsageError(`${arg} has no best.safetensors: train a model into it (ser train … --out ${arg}) or run \`npm run demo\``);
  if (!existsSync(config)) throw new UsageError(`${relative(cwd, dir) || '.'} has no config.json beside ${basename(checkpoint)}: it is not a run folder of ser train`);
  let format: unknown;
  try {
    format = (JSON.parse(readFileSync(config, 'utf8')) as { format?: unknown }).format;
  } catch (e) {
    throw new UsageError(`cannot read ${config}: ${(e as Error).message}`);
  }
  if (format !== 'ser-webgpu') throw new UsageError(`${config} is not a ser-webgpu model config`);
  return { dir, checkpoint, config };
}

export interface WebServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Files of the run the page may fetch, by URL path. */
function modelFiles(run: ServedRun): Map<string, { path: string; type: string }> {
  return new Map([
    ['/model/config.json', { path: run.config, type: 'application/json; charset=utf-8' }],
    ['/model/best.safetensors', { path: run.checkpoint, type: 'application/octet-stream' }],
  ]);
}

const HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Scripts, styles, the worklet and fetches come from this server only.
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

/** Starts the server; `port` 0 takes a free one. Resolves once it listens. */
export async function startServer(run: ServedRun, port: number, host = '127.0.0.1'): Promise<WebServer> {
  // Built before listening, so a broken bundle fails the command rather than the first request.
  let assets: Promise<Map<string, WebAsset>> = bundleWeb();
  await assets;
  const files = modelFiles(run);

  const send = (res: ServerResponse, status: number, type: string, body: string | Uint8Array, head: boolean): void => {
    res.writeHead(status, { ...HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(head ? undefined : body);
  };
  const text = (res: ServerResponse, status: number, message: string, head: boolean): void => send(res, status, 'text/plain; charset=utf-8', `${message}\n`, head);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return text(res, 405, 'only GET and HEAD', head);
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return text(res, 400, 'malformed path', head);
    }
    // The URL parser already resolved `..`; what is left (encoded slashes, backslashes) is refused outright.
    if (path.split(/[/\\]/).includes('..') || path.includes('\0')) return text(res, 403, 'outside the run folder', head);
    const file = files.get(path);
    if (file) {
      // Read at request time, so a run that keeps training serves its newest best.safetensors.
      let size: number;
      try {
        size = statSync(file.path).size;
      } catch {
        return text(res, 404, `${basename(file.path)} is gone from the run folder`, head);
      }
      res.writeHead(200, { ...HEADERS, 'Content-Type': file.type, 'Content-Length': size });
      if (head) return void res.end();
      createReadStream(file.path).on('error', () => res.destroy()).pipe(res);
      return;
    }
    // A page load rebuilds the bundle (incrementally), so edited sources or shaders are live after a reload.
    if (path === '/' || path === '/index.html') assets = bundleWeb();
    let built: Map<string, WebAsset>;
    try {
      built = await assets;
    } catch (e) {
      console.error(`ser serve: the page failed to build: ${(e as Error).message}`);
      return text(res, 500, `the page failed to build: ${(e as Error).message}`, head);
    }
    const asset = built.get(path === '/index.html' ? '/' : path);
    if (!asset) return text(res, 404, 'not found', head);
    send(res, 200, asset.type, asset.body, head);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) text(res, 500, (e as Error).message, false);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'EADDRINUSE' ? new UsageError(`port ${port} on ${host} is in use: pick another with --port N (0: any free port)`) : e),
    );
    server.listen(port, host, () => ok());
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${actual}/`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await disposeWebBundle();
    },
  };
}

export async function serve(argv: string[]): Promise<number> {
  const args = parseCommand(argv, SERVE);
  if (!args) return 0;
  if (args.positionals.length > 1) throw new UsageError(`one RUN at most, got ${args.positionals.length}\n\n${args.help}`);
  const { port, host } = args.values;
  const run = resolveRun(args.positionals[0]);
  const web = await startServer(run, port, host);
  const shown = relative(process.cwd(), run.checkpoint);
  console.log(`ser serve: ${web.url}  (model: ${shown.startsWith('..') ? run.checkpoint : shown})`);
  console.log('Open it in a browser with WebGPU (Chrome or Edge; Chromium on Linux needs --enable-unsafe-webgpu --enable-features=Vulkan). Ctrl-C stops.');
  await new Promise<void>((ok) => {
    process.once('SIGINT', ok);
    process.once('SIGTERM', ok);
  });
  await web.close();
  return 0;
}
