// One readable sentence for each way the page can fail, shown in its message area
// (src/web/app.ts). Errors the page expects — no WebGPU, a refused microphone, a
// file that is not audio, a checkpoint that does not fit its config — are turned
// into what a person can do about them; anything else is shown as unexpected and
// logged with its stack.
import { GpuError } from '../kernels/gpu-core.js';
import { CheckpointError } from '../model/safetensors.js';
import { AudioDecodeError } from '../dsp/wav.js';

/** An error whose message is already written for the person using the page. */
export class PageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PageError';
  }
}

export interface Described {
  message: string;
  /** Not one of the failures the page expects: also logged to the console with its stack. */
  unexpected: boolean;
}

export function describeError(e: unknown): Described {
  if (e instanceof PageError) return { message: e.message, unexpected: false };
  if (e instanceof GpuError) {
    if (e.kind === 'no-adapter') return { message: `No WebGPU: ${e.message}`, unexpected: false };
    if (e.kind === 'device-lost') return { message: `The GPU device was lost (${e.message}). Reload the page.`, unexpected: false };
    return { message: `GPU error: ${e.message}`, unexpected: true };
  }
  if (e instanceof CheckpointError) {
    return { message: `The checkpoint does not match its config.json (${e.problem}). Serve a run whose best.safetensors and config.json were written together by ser train.`, unexpected: false };
  }
  if (e instanceof AudioDecodeError) {
    return { message: `${e.file} is not audio this page can read: ${e.reason}. Use a WAV or AIFF file (PCM, float, μ-law or A-law).`, unexpected: false };
  }
  const name = (e as { name?: string } | null)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return { message: 'The microphone was refused. Allow this page to use it (the icon at the left of the address bar), then press Start again.', unexpected: false };
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return { message: 'No microphone was found. Connect one, or open a WAV/AIFF file instead.', unexpected: false };
  if (name === 'NotReadableError') return { message: 'The microphone is in use by another program or could not be opened.', unexpected: false };
  const message = e instanceof Error ? e.message : String(e);
  return { message: `Unexpected error: ${message}`, unexpected: true };
}
