// `ser` command dispatcher. Each subcommand lives in its own module and is
// loaded only when used, so `ser doctor` does not pay for the training stack.
import { UsageError } from './args.js';
import { GpuError } from '../kernels/gpu.js';
import { BUNDLED } from '../util/bundle.js';

type Command = { summary: string; load: () => Promise<(argv: string[]) => Promise<number>> };

export const COMMANDS: Record<string, Command> = {
  demo: { summary: 'synthesise a corpus, train, report and predict: the whole pipeline in minutes', load: async () => (await import('./demo.js')).demo },
  train: { summary: 'train the 3D CNN on corpora (--data KIND=DIR …)', load: async () => (await import('./train.js')).train },
  evaluate: { summary: 'classification report of a checkpoint on labelled data', load: async () => (await import('./evaluate.js')).evaluate },
  predict: { summary: 'top-3 emotions of audio files', load: async () => (await import('./predict.js')).predict },
  doctor: { summary: 'show the WebGPU adapter and run a self-test kernel (--kernels: every op against its reference)', load: async () => (await import('./doctor.js')).doctor },
  serve: {
    summary: 'a web page that recognises emotion live from the microphone, on the same WGSL in the browser',
    load: async () => {
      // The page is bundled from the sources by esbuild on each load, and the portable build carries neither.
      if (BUNDLED) throw new Error('the portable build has no web page (it is bundled from src/web by esbuild as it is served); run ser serve from a source checkout');
      return (await import('./serve.js')).serve;
    },
  },
  mel: { summary: 'mel spectrogram of an audio file (JSON, summary or PNG)', load: async () => (await import('./mel.js')).mel },
  tune: { summary: 'choose the conv3d kernels for this adapter by measurement, and cache the choice', load: async () => (await import('./tune.js')).tune },
  bench: { summary: 'time training steps and inference of the network (optionally vs TensorFlow.js or PyTorch), or the mel front end', load: async () => (await import('./bench.js')).bench },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: ser <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'ser <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`ser: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const fn = await cmd.load();
    return await fn(rest);
  } catch (e) {
    return reportError(name, e);
  }
}

/** One line for the user; the stack only with SER_DEBUG=1. Usage errors exit 2, interruptions 128 + signal, the rest 1. */
export function reportError(command: string, e: unknown): number {
  const err = e as Error;
  if (process.env.SER_DEBUG) console.error(err?.stack ?? err);
  if (err instanceof UsageError) {
    // Errors found while checking one option's value carry no usage text of their own.
    const help = err.message.includes('Usage:') ? '' : `\nRun 'ser ${command} --help' for its options.`;
    console.error(`ser ${command}: ${err.message}${help}`);
    return 2;
  }
  let message = err instanceof Error ? err.message : String(err);
  if (err instanceof GpuError) {
    if (/exceeds the max buffer size|exceeds the maximum|binding size/i.test(message) && !message.includes('--batch')) {
      message += ` — too large for this GPU's limits${command === 'train' || command === 'evaluate' ? '; try a smaller --batch' : ''}.`;
    }
  }
  console.error(`ser ${command}: ${oneLine(message)}`);
  if (err?.name === 'TrainingInterrupted') return (err as Error & { signal?: string }).signal === 'SIGINT' ? 130 : 143;
  return 1;
}

/** Joins a multi-line message (Dawn's go on with " - While calling …" lines) into one line. */
function oneLine(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
}
