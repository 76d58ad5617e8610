// The AudioWorklet processor of the page's microphone input (src/web/mic.ts): it
// averages the input's channels into mono and posts the samples to the page in
// blocks of BLOCK frames, at the audio context's rate. Resampling to the model's
// rate happens on the page, with the project's resampler (src/dsp/resample.ts).

// The AudioWorkletGlobalScope, which TypeScript's DOM library does not describe.
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessor): void;

/** Frames per message: 2048 at 48 kHz is 43 ms, small against the half-second step of the page's predictions. */
const BLOCK = 2048;

class Capture extends AudioWorkletProcessor {
  private block = new Float32Array(BLOCK);
  private filled = 0;

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0]!.length;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (const ch of channels) sum += ch[i]!;
      this.block[this.filled++] = sum / channels.length;
      if (this.filled === BLOCK) {
        this.port.postMessage(this.block, [this.block.buffer]);
        this.block = new Float32Array(BLOCK);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('ser-capture', Capture);
