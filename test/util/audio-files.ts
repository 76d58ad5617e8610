// Small audio files of every shape the robustness tests need, encoded by hand so
// that each byte of a broken header is deliberate: good WAV and AIFF, truncated,
// empty, zero-sample, lying about its size, an unsupported encoding.
import { Rng } from '../../src/util/rng.js';

/** A voiced-looking test signal: a gliding tone with harmonics and a little noise, in [-0.5, 0.5]. */
export function testSignal(seconds: number, sampleRate: number, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const n = Math.round(seconds * sampleRate);
  const out = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const f0 = 140 + 60 * Math.sin((2 * Math.PI * i) / n);
    phase += (2 * Math.PI * f0) / sampleRate;
    out[i] = 0.25 * Math.sin(phase) + 0.12 * Math.sin(2 * phase) + 0.06 * Math.sin(3 * phase) + 0.02 * (rng.next() - 0.5);
  }
  return out;
}

function int16(x: number): number {
  return Math.max(-32768, Math.min(32767, Math.round(x * 32767)));
}

/** RIFF/WAVE header with a `fmt ` chunk and a `data` chunk header claiming `dataBytes`. */
export function wavHeader(o: { channels: number; sampleRate: number; bits: number; dataBytes: number; formatTag?: number }): Buffer {
  const h = Buffer.alloc(44);
  const blockAlign = (o.channels * o.bits) / 8;
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(Math.min(0xffffffff, 36 + o.dataBytes), 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(o.formatTag ?? 1, 20);
  h.writeUInt16LE(o.channels, 22);
  h.writeUInt32LE(o.sampleRate, 24);
  h.writeUInt32LE(o.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(o.bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(o.dataBytes, 40);
  return h;
}

/** 16-bit PCM WAV; with 2 channels the right one is the signal inverted and halved. */
export function wav16(samples: Float32Array, sampleRate: number, channels: 1 | 2 = 1): Buffer {
  const data = Buffer.alloc(samples.length * 2 * channels);
  samples.forEach((x, i) => {
    data.writeInt16LE(int16(x), i * 2 * channels);
    if (channels === 2) data.writeInt16LE(int16(-x / 2), i * 4 + 2);
  });
  return Buffer.concat([wavHeader({ channels, sampleRate, bits: 16, dataBytes: data.length }), data]);
}

/** IEEE 754 80-bit extended, AIFF's sample-rate field, for a positive integer rate. */
function extended80(rate: number): Buffer {
  const b = Buffer.alloc(10);
  const e = Math.floor(Math.log2(rate));
  b.writeUInt16BE(16383 + e, 0);
  const mant = BigInt(rate) << BigInt(63 - e);
  b.writeBigUInt64BE(mant, 2);
  return b;
}

/** 16-bit big-endian PCM AIFF, mono. */
export function aiff16(samples: Float32Array, sampleRate: number): Buffer {
  const comm = Buffer.alloc(8 + 18);
  comm.write('COMM', 0, 'latin1');
  comm.writeUInt32BE(18, 4);
  comm.writeUInt16BE(1, 8);
  comm.writeUInt32BE(samples.length, 10);
  comm.writeUInt16BE(16, 14);
  extended80(sampleRate).copy(comm, 16);
  const ssnd = Buffer.alloc(16 + samples.length * 2);
  ssnd.write('SSND', 0, 'latin1');
  ssnd.writeUInt32BE(8 + samples.length * 2, 4);
  samples.forEach((x, i) => ssnd.writeInt16BE(int16(x), 16 + i * 2));
  const head = Buffer.alloc(12);
  head.write('FORM', 0, 'latin1');
  head.writeUInt32BE(4 + comm.length + ssnd.length, 4);
  head.write('AIFF', 8, 'latin1');
  return Buffer.concat([head, comm, ssnd]);
}

/** The broken files of the tests, by the name a test gives them. */
export function brokenAudio(seed = 7): Record<string, { bytes: Buffer; reason: RegExp }> {
  const good = wav16(testSignal(0.5, 16000), 16000);
  const rng = new Rng(seed);
  return {
    truncated: { bytes: good.subarray(0, 44 + 1000), reason: /truncated: data chunk claims 16000 bytes but only 1000 remain/ },
    random: { bytes: Buffer.from(Array.from({ length: 3000 }, () => rng.int(256))), reason: /not RIFF\/WAVE or AIFF/ },
    empty: { bytes: Buffer.alloc(0), reason: /empty file/ },
    zeroSamples: { bytes: wavHeader({ channels: 1, sampleRate: 16000, bits: 16, dataBytes: 0 }), reason: /zero samples/ },
    // A 44-byte file whose header claims 4 GB of samples: must fail on the header, not by allocating.
    claims4GB: { bytes: Buffer.concat([wavHeader({ channels: 2, sampleRate: 44100, bits: 16, dataBytes: 0xfffffff0 }), Buffer.alloc(64)]), reason: /truncated: data chunk claims 4294967280 bytes but only 64 remain/ },
    mp3: { bytes: Buffer.concat([wavHeader({ channels: 1, sampleRate: 16000, bits: 16, dataBytes: 400, formatTag: 0x55 }), Buffer.alloc(400)]), reason: /unsupported encoding: MP3/ },
  };
}
