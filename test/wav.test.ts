// Audio decoding: every WAV/AIFF flavour we claim, generated in code (by the
// independent `wavefile` writer and by small hand-made RIFF/AIFF builders), the
// quirky real corpus files in ../shared, clear errors for bad input, and a fuzz
// test: mutated and truncated files only ever raise AudioDecodeError.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { AudioDecodeError, decodeAudio, readAudioFile } from '../src/dsp/wav.js';

const { WaveFile } = wavefile;
const DATA = join('..', 'shared', 'data');
/** Half an ulp of float32 at 1: the decoder's output is float32. */
const F32_ROUNDING = 2 ** -24;

/** Per-format tolerance of decoded samples vs the exact value (quantisation step and G.711 companding); float32 output rounding comes on top. */
const LABEL: Record<string, string> = { '32f': '32-bit float', '64': '64-bit float', alaw: 'A-law', ulaw: 'μ-law' };
const TOL: Record<string, number> = { '8': 1 / 128, '16': 1 / 32768, '24': 2 ** -23, '32': 2 ** -31, '32f': 1e-7, '64': 0, alaw: 0.07, ulaw: 0.07 };

/** Channel c, frame i of the test signal, in [-0.9, 0.9]. */
function value(c: number, i: number): number {
  return 0.9 * Math.sin(0.05 * i * (c + 1) + c);
}

function channels(nch: number, frames: number): number[][] {
  return Array.from({ length: nch }, (_, c) => Array.from({ length: frames }, (_, i) => value(c, i)));
}

function downmix(ch: number[][]): number[] {
  return ch[0]!.map((_, i) => ch.reduce((a, c) => a + c[i]!, 0) / ch.length);
}

/** Integer/float samples as wavefile expects them for a bit depth code. */
function quantise(ch: number[][], depth: string): number[][] {
  const full: Record<string, number> = { '8': 128, '16': 32768, '24': 2 ** 23, '32': 2 ** 31 };
  const f = full[depth];
  if (!f) return ch;
  return ch.map((c) => c.map((v) => Math.max(-f, Math.min(f - 1, Math.round(v * f))) + (depth === '8' ? 128 : 0)));
}

function wavefileBytes(nch: number, rate: number, depth: string, frames = 500): Uint8Array {
  const w = new WaveFile();
  const src = channels(nch, frames);
  if (depth === 'alaw' || depth === 'ulaw') {
    w.fromScratch(nch, rate, '16', quantise(src, '16'));
    if (depth === 'alaw') w.toALaw();
    else w.toMuLaw();
  } else {
    w.fromScratch(nch, rate, depth, quantise(src, depth));
  }
  return w.toBuffer();
}

function maxErr(got: Float32Array, want: number[]): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!));
  return m;
}

// --- hand-made containers ---------------------------------------------------

function chunk(id: string, body: Uint8Array, le = true): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  out.set(Buffer.from(id, 'latin1'), 0);
  new DataView(out.buffer).setUint32(4, body.length, le);
  out.set(body, 8);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function riff(chunks: Uint8Array[]): Uint8Array {
  const body = concat([Buffer.from('WAVE', 'latin1'), ...chunks]);
  return concat([Buffer.from('RIFF', 'latin1'), u32le(body.length), body]);
}

function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

/** 16-bit PCM interleaved. */
function pcm16(ch: number[][]): Uint8Array {
  const frames = ch[0]!.length;
  const b = new Uint8Array(frames * ch.length * 2);
  const v = new DataView(b.buffer);
  for (let i = 0; i < frames; i++) for (let c = 0; c < ch.length; c++) v.setInt16((i * ch.length + c) * 2, Math.round(ch[c]![i]! * 32767), true);
  return b;
}

function fmtChunk(tag: number, nch: number, rate: number, bits: number, extensibleSub?: number): Uint8Array {
  const width = Math.ceil(bits / 8);
  const b = new Uint8Array(extensibleSub === undefined ? 16 : 40);
  const v = new DataView(b.buffer);
  v.setUint16(0, extensibleSub === undefined ? tag : 0xfffe, true);
  v.setUint16(2, nch, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, rate * nch * width, true);
  v.setUint16(12, nch * width, true);
  v.setUint16(14, bits, true);
  if (extensibleSub !== undefined) {
    v.setUint16(16, 22, true);
    v.setUint16(18, bits, true);
    v.setUint32(20, nch === 2 ? 3 : 4, true);
    v.setUint16(24, extensibleSub, true);
    b.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  return chunk('fmt ', b);
}

/** 80-bit IEEE extended of a positive integer rate. */
function extended(rate: number): Uint8Array {
  const b = new Uint8Array(10);
  const e = Math.floor(Math.log2(rate));
  const v = new DataView(b.buffer);
  v.setUint16(0, 16383 + e, false);
  const mant = rate * 2 ** (63 - e);
  v.setUint32(2, Math.floor(mant / 2 ** 32), false);
  v.setUint32(6, mant % 2 ** 32, false);
  return b;
}

function aiff(ch: number[][], rate: number, kind: 'NONE' | 'sowt' | 'fl32' | null, bits = 16): Uint8Array {
  const frames = ch[0]!.length;
  const width = kind === 'fl32' ? 4 : Math.ceil(bits / 8);
  const data = new Uint8Array(frames * ch.length * width);
  const dv = new DataView(data.buffer);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < ch.length; c++) {
      const p = (i * ch.length + c) * width;
      const x = ch[c]![i]!;
      if (kind === 'fl32') dv.setFloat32(p, x, false);
      else if (width === 2) dv.setInt16(p, Math.min(32767, Math.round(x * 32768)), kind === 'sowt');
      else if (width === 3) {
        const q = Math.min(2 ** 23 - 1, Math.round(x * 2 ** 23));
        dv.setUint8(p, (q >> 16) & 0xff);
        dv.setUint8(p + 1, (q >> 8) & 0xff);
        dv.setUint8(p + 2, q & 0xff);
      }
    }
  }
  const comm = new Uint8Array(kind ? 24 : 18);
  const cv = new DataView(comm.buffer);
  cv.setUint16(0, ch.length, false);
  cv.setUint32(2, frames, false);
  cv.setUint16(6, kind === 'fl32' ? 32 : bits, false);
  comm.set(extended(rate), 8);
  if (kind) {
    comm.set(Buffer.from(kind, 'latin1'), 18);
    // empty Pascal string (count byte + pad)
  }
  const ssnd = concat([new Uint8Array(8), data]);
  const body = concat([Buffer.from(kind ? 'AIFC' : 'AIFF', 'latin1'), chunk('COMM', comm, false), chunk('SSND', ssnd, false)]);
  const head = new Uint8Array(8);
  head.set(Buffer.from('FORM', 'latin1'));
  new DataView(head.buffer).setUint32(4, body.length, false);
  return concat([head, body]);
}

// --- tests --------------------------------------------------------------------

describe('decodeAudio: formats written by wavefile', () => {
  for (const depth of ['8', '16', '24', '32', '32f', '64', 'alaw', 'ulaw']) {
    for (const nch of [1, 2, 3]) {
      it(`${LABEL[depth] ?? depth + '-bit PCM'}, ${nch} channel(s): mean downmix within ${TOL[depth]!.toExponential(1)}`, () => {
        const bytes = wavefileBytes(nch, 16000, depth);
        const a = decodeAudio(bytes, `gen-${depth}.wav`);
        expect(a.sampleRate).toBe(16000);
        expect(a.channels).toBe(nch);
        const err = maxErr(a.samples, downmix(channels(nch, 500)));
        console.log(`${depth} ×${nch}: max error ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(TOL[depth]! + F32_ROUNDING);
      });
    }
  }
});

describe('decodeAudio: container details', () => {
  const ch = channels(2, 301);
  const want = downmix(ch.map((c) => c.map((v) => Math.round(v * 32767) / 32768)));

  it('extra chunks before and after, odd-sized chunks padded, LIST before fmt', () => {
    const bytes = riff([chunk('LIST', new Uint8Array(13).fill(7)), fmtChunk(1, 2, 22050, 16), chunk('fact', u32le(301)), chunk('junk', new Uint8Array(3)), chunk('data', pcm16(ch)), chunk('id3 ', new Uint8Array(5))]);
    const a = decodeAudio(bytes, 'chunks.wav');
    expect(maxErr(a.samples, want)).toBeLessThanOrEqual(1e-7);
  });

  it('WAVE_FORMAT_EXTENSIBLE with a PCM sub-format, and with an ADPCM one (rejected)', () => {
    const a = decodeAudio(riff([fmtChunk(1, 2, 48000, 16, 1), chunk('data', pcm16(ch))]), 'ext.wav');
    expect(a.sampleRate).toBe(48000);
    expect(maxErr(a.samples, want)).toBeLessThanOrEqual(1e-7);
    expect(() => decodeAudio(riff([fmtChunk(1, 2, 48000, 16, 2), chunk('data', pcm16(ch))]), 'ext-adpcm.wav')).toThrow(/ext-adpcm\.wav: unsupported encoding: MS ADPCM/);
  });

  it('a data size of 0xFFFFFFFF (streamed writer) means "to the end of the file"', () => {
    const bytes = riff([fmtChunk(1, 2, 22050, 16), chunk('data', pcm16(ch))]);
    new DataView(bytes.buffer).setUint32(40, 0xffffffff, true);
    expect(decodeAudio(bytes, 'stream.wav').samples.length).toBe(301);
  });

  it('NaN and Inf float samples become 0 and are counted', () => {
    const w = new WaveFile();
    w.fromScratch(1, 8000, '32f', [0.5, NaN, Infinity, -0.25, -Infinity]);
    const a = decodeAudio(w.toBuffer(), 'nan.wav');
    expect(Array.from(a.samples)).toEqual([0.5, 0, 0, -0.25, 0]);
    expect(a.nonFinite).toBe(3);
  });

  it('AIFF 16/24-bit, AIFC sowt and fl32, with an 80-bit extended sample rate', () => {
    const mono = channels(1, 257);
    for (const [kind, bits, tol] of [
      [null, 16, 2 ** -16 + F32_ROUNDING],
      [null, 24, 2 ** -24 + F32_ROUNDING],
      ['NONE', 16, 2 ** -16 + F32_ROUNDING],
      ['sowt', 16, 2 ** -16 + F32_ROUNDING],
      ['fl32', 32, F32_ROUNDING],
    ] as const) {
      for (const c of [mono, ch]) {
        const a = decodeAudio(aiff(c, 24414, kind, bits), 'x.aiff');
        expect(a.container).toBe('aiff');
        expect(a.sampleRate).toBe(24414);
        expect(maxErr(a.samples, downmix(c)), `${kind} ${bits}`).toBeLessThanOrEqual(tol);
      }
    }
  });
});

describe('decodeAudio: clear one-line errors', () => {
  const good = riff([fmtChunk(1, 1, 22050, 16), chunk('data', pcm16(channels(1, 100)))]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /empty file/],
    ['short', good.subarray(0, 7), /truncated/],
    ['not audio', new TextEncoder().encode('hello, this is not a wav file at all'), /data is not RIFF\/WAVE or AIFF/],
    ['ADPCM', riff([fmtChunk(2, 1, 22050, 4), chunk('data', new Uint8Array(100))]), /unsupported encoding: MS ADPCM/],
    ['MP3', riff([fmtChunk(0x55, 1, 22050, 16), chunk('data', new Uint8Array(100))]), /unsupported encoding: MP3/],
    ['zero channels', riff([fmtChunk(1, 0, 22050, 16), chunk('data', new Uint8Array(100))]), /zero channels/],
    ['zero samples', riff([fmtChunk(1, 1, 22050, 16), chunk('data', new Uint8Array(0))]), /zero samples/],
    ['no data', riff([fmtChunk(1, 1, 22050, 16)]), /no data chunk/],
    ['no fmt', riff([chunk('data', new Uint8Array(10))]), /no fmt chunk/],
    ['truncated data', good.subarray(0, good.length - 11), /truncated: data chunk claims 200 bytes but only 189 remain/],
    ['sample rate 0', riff([fmtChunk(1, 1, 0, 16), chunk('data', new Uint8Array(10))]), /sample rate 0/],
  ];
  for (const [label, bytes, re] of cases) {
    it(`${label}`, () => {
      let err: unknown;
      try {
        decodeAudio(bytes, `bad-${label}.wav`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AudioDecodeError);
      const msg = (err as Error).message;
      expect(msg).toMatch(re);
      expect(msg.startsWith(`bad-${label}.wav: `)).toBe(true);
      expect(msg).not.toContain('\n');
    });
  }

  it('a header claiming 4 GB is refused without allocating it', () => {
    const bytes = riff([fmtChunk(1, 1, 22050, 16), chunk('data', new Uint8Array(4))]);
    new DataView(bytes.buffer).setUint32(40, 0xfffffff0, true);
    expect(() => decodeAudio(bytes, 'huge.wav')).toThrow(/truncated: data chunk claims 4294967280 bytes/);
    const a = aiff(channels(1, 10), 8000, null);
    new DataView(a.buffer).setUint32(22, 0x7fffffff, false); // COMM frame count
    expect(() => decodeAudio(a, 'huge.aiff')).toThrow(AudioDecodeError);
  });

  it('maxSeconds refuses long audio from the header, before decoding', () => {
    expect(() => decodeAudio(good, 'long.wav', { maxSeconds: 0.001 })).toThrow(/too long: 0\.0 s exceeds the limit of 0\.001 s/);
  });
});

describe('real corpus files', () => {
  it('TESS: AIFF files named .wav decode; the 96 kHz file reports its rate', () => {
    for (const f of ['YAF_angry/YAF_germ_angry.wav', 'YAF_fear/YAF_neat_fear.wav']) {
      const a = decodeAudio(readFileSync(join(DATA, 'tess-sample', f)), f);
      expect(a.container).toBe('aiff');
      expect(a.sampleRate).toBe(24414);
      expect(a.samples.length).toBeGreaterThan(24414);
      expect(a.samples.some((v) => Math.abs(v) > 0.01)).toBe(true);
    }
    const hi = decodeAudio(readFileSync(join(DATA, 'tess-sample', 'OAF_Fear/OAF_food_fear.wav')), 'OAF_food_fear.wav');
    expect(hi.sampleRate).toBe(96000);
    const std = decodeAudio(readFileSync(join(DATA, 'tess-sample', 'OAF_Fear/OAF_back_fear.wav')), 'OAF_back_fear.wav');
    expect([std.sampleRate, std.container]).toEqual([24414, 'wav']);
  });

  it('RAVDESS stereo files (with an FLLR chunk) are downmixed to mono at 48 kHz', () => {
    const a = decodeAudio(readFileSync(join(DATA, 'ravdess-sample/Actor_01/03-01-08-01-02-02-01.wav')), 'ravdess');
    expect([a.channels, a.sampleRate]).toEqual([2, 48000]);
    expect(a.samples.length).toBeGreaterThan(48000 * 2);
  });

  it('EmoDB as distributed: 16-bit 16 kHz, its own length (03a01Fa: 1.898 s), read as int16/32768', () => {
    const bytes = readFileSync(join(DATA, 'emodb-original', '03a01Fa.wav'));
    const a = decodeAudio(bytes, '03a01Fa.wav');
    expect([a.sampleRate, a.samples.length]).toEqual([16000, 30372]);
    expect(a.samples[0]).toBe(new DataView(bytes.buffer, bytes.byteOffset).getInt16(44, true) / 32768);
  });
});

describe('readAudioFile', () => {
  it('refuses files over the byte bound before reading them, and names missing files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ser-wav-'));
    try {
      const p = join(dir, 'a.wav');
      writeFileSync(p, wavefileBytes(1, 8000, '16', 4000));
      await expect(readAudioFile(p, { maxBytes: 1000 })).rejects.toThrow(/a\.wav: file too large: 8044 bytes exceeds the limit of 1000/);
      expect((await readAudioFile(p)).samples.length).toBe(4000);
      await expect(readAudioFile(join(dir, 'missing.wav'))).rejects.toThrow(/missing\.wav: cannot read: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fuzz', () => {
  it('mutated and truncated files only ever raise AudioDecodeError, and never decode more samples than bytes', () => {
    const seeds = [
      wavefileBytes(2, 16000, '16', 200),
      wavefileBytes(3, 16000, '24', 100),
      wavefileBytes(1, 16000, '64', 50),
      wavefileBytes(1, 8000, 'ulaw', 100),
      riff([chunk('LIST', new Uint8Array(9)), fmtChunk(1, 2, 22050, 16, 1), chunk('data', pcm16(channels(2, 64)))]),
      aiff(channels(2, 100), 24414, null),
      aiff(channels(1, 100), 22050, 'sowt'),
    ];
    let s = 12345;
    const rnd = (n: number) => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % n;
    };
    const t0 = Date.now();
    let runs = 0;
    let decoded = 0;
    const errors = new Map<string, number>();
    while (Date.now() - t0 < 3000) {
      const src = seeds[runs % seeds.length]!;
      let b = Uint8Array.from(src);
      const op = rnd(4);
      if (op === 0) b = b.subarray(0, rnd(b.length + 1));
      const flips = 1 + rnd(6);
      for (let k = 0; k < flips && b.length > 0; k++) {
        const at = op === 1 ? rnd(Math.min(b.length, 64)) : rnd(b.length); // headers are where the damage matters
        b[at] = op === 2 ? 0xff : rnd(256);
      }
      runs++;
      try {
        const a = decodeAudio(b, 'fuzz.wav');
        decoded++;
        expect(a.samples.length).toBeLessThanOrEqual(b.length);
      } catch (e) {
        if (!(e instanceof AudioDecodeError)) throw new Error(`non-AudioDecodeError on run ${runs}: ${String(e)}`);
        const reason = e.reason.replace(/[\d"]+.*$/, '');
        errors.set(reason, (errors.get(reason) ?? 0) + 1);
      }
    }
    console.log(`fuzz: ${runs} files, ${decoded} decoded, errors by kind:`, Object.fromEntries(errors));
    expect(runs).toBeGreaterThan(1000);
  });
});
