// The microphone: getUserMedia without the browser's voice processing (echo
// cancellation, noise suppression and gain control would change the spectrum the
// model was trained on), an AudioWorklet that hands over raw samples
// (capture-worklet.ts), and a ring buffer of the most recent seconds at the
// device's rate.
import { PageError } from './errors.js';

export class Microphone {
  private ring: Float32Array;
  /** Samples received since the start. */
  total = 0;
  private constructor(
    private readonly context: AudioContext,
    private readonly stream: MediaStream,
    private readonly node: AudioWorkletNode,
    /** Samples per second delivered (the audio context's rate). */
    readonly rate: number,
    seconds: number,
  ) {
    this.ring = new Float32Array(Math.ceil(seconds * rate));
    node.port.onmessage = (ev: MessageEvent<Float32Array>) => this.push(ev.data);
  }

  /** Asks for the microphone (the browser may prompt) and starts capturing; keeps the last `seconds`. */
  static async open(seconds: number, onEnded: () => void): Promise<Microphone> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new PageError('This page cannot reach a microphone here: browsers offer it only to pages from localhost or https.');
    }
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    let context: AudioContext | null = null;
    try {
      context = new AudioContext({ latencyHint: 'interactive' });
      await context.audioWorklet.addModule('capture-worklet.js');
      const node = new AudioWorkletNode(context, 'ser-capture', { numberOfInputs: 1, numberOfOutputs: 0 });
      context.createMediaStreamSource(stream).connect(node);
      if (context.state === 'suspended') await context.resume();
      for (const t of stream.getAudioTracks()) t.addEventListener('ended', onEnded);
      return new Microphone(context, stream, node, context.sampleRate, seconds);
    } catch (e) {
      for (const t of stream.getTracks()) t.stop();
      void context?.close();
      throw e;
    }
  }

  private push(block: Float32Array): void {
    const n = this.ring.length;
    const at = this.total % n;
    const first = Math.min(block.length, n - at);
    this.ring.set(block.subarray(0, first), at);
    if (first < block.length) this.ring.set(block.subarray(first), 0);
    this.total += block.length;
  }

  /** The last `n` samples (n at most the capacity), oldest first. */
  latest(n: number): Float32Array {
    const cap = this.ring.length;
    if (n > cap || n > this.total) throw new RangeError(`asked for ${n} samples, have ${Math.min(cap, this.total)}`);
    const out = new Float32Array(n);
    const start = (((this.total - n) % cap) + cap) % cap;
    const first = Math.min(n, cap - start);
    out.set(this.ring.subarray(start, start + first));
    if (first < n) out.set(this.ring.subarray(0, n - first), first);
    return out;
  }

  close(): void {
    this.node.port.onmessage = null;
    for (const t of this.stream.getTracks()) t.stop();
    void this.context.close();
  }
}
