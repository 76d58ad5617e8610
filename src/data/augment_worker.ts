// Worker side of AugmentPool: augments one clip per message and transfers the result back.
import { parentPort } from 'node:worker_threads';
import { augment } from './augment.js';

parentPort!.on('message', (m: { id: number; audio: Float32Array; sampleRate: number; seed: number; options: object }) => {
  try {
    const r = augment({ audio: m.audio, sampleRate: m.sampleRate }, m.seed, m.options);
    parentPort!.postMessage({ id: m.id, audio: r.audio, applied: r.applied }, [r.audio.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message ?? String(e) });
  }
});
