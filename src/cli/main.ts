// `ser` command dispatcher. Each subcommand lives in its own module and is
// loaded only when used, so `ser doctor` does not pay for the training stack.
import { UsageError } from './args.js';
import { GpuError } from '../kernels/gpu.js';

type Command = { summary: string; load: () => Promise<(argv: string[]) => Promise<number>> };

export const COMMANDS: Record<string, Command> = {
  demo: { summary: 'synthesise a corpus, train, report and predict: the whole pipeline in minutes', load: async () => (await import('./demo.js')).demo },
  train: { summary: 'train the 3D CNN on corpora (--data KIND=DIR …)', load: async () => (await import('./train.js')).train },
  evaluate: { summary: 'classification report of a checkpoint on labelled data', load: async () => (await import('./evaluate.js')).evaluate },
  predict: { summary: 'top-3 emotions of audio files', load: async () => (await import('./predict.js')).predict },
  doctor: { summary: 'show the WebGPU adapter and run a self-test kernel', load: async () => (await import('./doctor.js')).doctor },
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

/** One line for the user; the stack only with SER_DEBUG=1. */
export function reportError(command: string, e: unknown): number {
  const err = e as Error;
  if (process.env.SER_DEBUG) console.error(err?.stack ?? err);
  if (err instanceof UsageError) {
    console.error(`ser ${command}: ${err.message}`);
    return 2;
  }
  const prefix = err instanceof GpuError ? '' : '';
  console.error(`ser ${command}: ${prefix}${err?.message ?? String(err)}`);
  return 1;
}
