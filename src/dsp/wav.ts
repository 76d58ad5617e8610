// Audio file decoding: RIFF/WAVE and AIFF/AIFC, to mono float32.
//
// Our own chunk walker rather than a general library, because corpora are
// messy (AIFF files named .wav, LIST/fact/junk chunks, extensible headers) and
// because every size a header claims must be checked against the bytes really
// present before anything is allocated: a 40-byte file that claims 4 GB of
// samples must fail with a message, not exhaust memory.
//
// Supported: WAV PCM 8 (unsigned) / 16 / 24 / 32-bit (and narrower valid bits in
// those containers), IEEE float 32/64, μ-law and A-law (G.711), any channel
// count, WAVE_FORMAT_EXTENSIBLE with those sub-formats. AIFF signed big-endian
// PCM 8–32 bit; AIFC NONE/twos, sowt (little-endian), fl32/fl64, ulaw/alaw.
// Integer PCM is scaled by 2^-(bits-1) (int16/32768, as librosa/soundfile do);
// channels are averaged into mono.
//
// Non-finite float samples (NaN, ±Inf) are replaced by 0 and counted in
// `nonFinite`, so one bad sample does not poison a whole spectrogram; callers
// that prefer to reject such files can check the count.
import { readFile, stat } from 'node:fs/promises';

/** Why a file could not be decoded; the message is one line naming the file. */
export class AudioDecodeError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'AudioDecodeError';
  }
}

export interface DecodedAudio {
  /** Mono samples (mean of the channels), nominally in [-1, 1]. */
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  /** Non-finite float samples that were replaced by 0. */
  nonFinite: number;
  container: 'wav' | 'aiff';
}

export interface DecodeOptions {
  /** Refuse audio longer than this (checked from the header, before decoding). */
  maxSeconds?: number;
}

type Encoding = 'pcm' | 'float' | 'ulaw' | 'alaw';

/** What a header says about the sample data, already validated against the file's length. */
interface Layout {
  encoding: Encoding;
  littleEndian: boolean;
  /** Bytes per sample of one channel in the file (the container width). */
  width: number;
  /** Significant bits (<= 8·width); integer samples are scaled by 2^-(bits-1) after shifting into place. */
  bits: number;
  /** 8-bit WAV PCM is unsigned; every other integer format is two's complement. */
  unsigned8: boolean;
  channels: number;
  sampleRate: number;
  dataOffset: number;
  frames: number;
}

/** Highest sample rate we believe; anything above is a corrupt header. */
const MAX_RATE = 1_536_000;
const MAX_CHANNELS = 256;

const WAV_TAGS: Record<number, string> = {
  0x0002: 'MS ADPCM',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MP3',
  0x0161: 'WMA',
  0x1610: 'AAC',
  0xf1ac: 'FLAC',
};

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

/** Decodes a WAV or AIFF file held in memory. Throws only AudioDecodeError. */
export function decodeAudio(bytes: Uint8Array, name: string, opts: DecodeOptions = {}): DecodedAudio {
  const fail = (reason: string): never => {
    throw new AudioDecodeError(name, reason);
  };
  if (bytes.length === 0) fail('empty file');
  if (bytes.length < 12) fail(`truncated: ${bytes.length} bytes is too short for a WAV or AIFF header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = fourcc(bytes, 0);
  const form = fourcc(bytes, 8);
  let layout: Layout;
  let container: DecodedAudio['container'];
  if (magic === 'RIFF' && form === 'WAVE') {
    layout = parseWav(bytes, view, fail);
    container = 'wav';
  } else if (magic === 'FORM' && (form === 'AIFF' || form === 'AIFC')) {
    layout = parseAiff(bytes, view, form === 'AIFC', fail);
    container = 'aiff';
  } else if (magic === 'RF64' || magic === 'RIFX') {
    return fail(`unsupported container ${magic}`);
  } else {
    return fail('data is not RIFF/WAVE or AIFF');
  }
  if (layout.channels === 0) fail('zero channels');
  if (layout.channels > MAX_CHANNELS) fail(`corrupt header: ${layout.channels} channels`);
  if (!(layout.sampleRate > 0 && layout.sampleRate <= MAX_RATE)) fail(`corrupt header: sample rate ${layout.sampleRate}`);
  if (layout.frames === 0) fail('zero samples');
  if (opts.maxSeconds !== undefined && layout.frames / layout.sampleRate > opts.maxSeconds) {
    fail(`too long: ${(layout.frames / layout.sampleRate).toFixed(1)} s exceeds the limit of ${opts.maxSeconds} s`);
  }
  const { samples, nonFinite } = decodeSamples(view, layout);
  return { samples, sampleRate: layout.sampleRate, channels: layout.channels, nonFinite, container };
}

function parseWav(b: Uint8Array, v: DataView, fail: (r: string) => never): Layout {
  // The RIFF size is often wrong in the wild (streamed writers); the chunks themselves are checked instead.
  let fmt: Omit<Layout, 'dataOffset' | 'frames'> | null = null;
  let blockAlign = 0;
  let data: { offset: number; size: number } | null = null;
  let at = 12;
  while (at + 8 <= b.length) {
    const id = fourcc(b, at);
    let size = v.getUint32(at + 4, true);
    const body = at + 8;
    const remain = b.length - body;
    if (id === 'data') {
      // 0 and 0xFFFFFFFF are what streaming writers leave when they cannot seek back.
      if (size === 0xffffffff || (size === 0 && remain > 0 && fmt !== null)) size = remain;
      else if (size > remain) fail(`truncated: data chunk claims ${size} bytes but only ${remain} remain`);
      data = { offset: body, size };
      if (fmt) break;
    } else if (id === 'fmt ') {
      if (size < 16 || size > remain) fail(`corrupt fmt chunk (${size} bytes, ${remain} remain)`);
      let tag = v.getUint16(body, true);
      const channels = v.getUint16(body + 2, true);
      const sampleRate = v.getUint32(body + 4, true);
      blockAlign = v.getUint16(body + 12, true);
      let bits = v.getUint16(body + 14, true);
      if (tag === 0xfffe) {
        if (size < 40) fail('corrupt WAVE_FORMAT_EXTENSIBLE header (fmt chunk shorter than 40 bytes)');
        const valid = v.getUint16(body + 18, true);
        if (valid > 0 && valid <= bits) bits = valid;
        tag = v.getUint16(body + 24, true); // first two bytes of the sub-format GUID
      }
      const width = channels > 0 ? blockAlign / channels : 0;
      let encoding: Encoding;
      if (tag === 1) encoding = 'pcm';
      else if (tag === 3) encoding = 'float';
      else if (tag === 6) encoding = 'alaw';
      else if (tag === 7) encoding = 'ulaw';
      else return fail(`unsupported encoding: ${WAV_TAGS[tag] ?? 'format tag 0x' + tag.toString(16).padStart(4, '0')}`);
      if (channels > 0 && (!Number.isInteger(width) || width < 1 || width > 8)) fail(`corrupt fmt chunk: block align ${blockAlign} for ${channels} channels`);
      checkWidth(encoding, width, bits, fail);
      fmt = { encoding, littleEndian: true, width, bits, unsigned8: encoding === 'pcm' && width === 1, channels, sampleRate };
      if (data) break;
    } else if (size > remain) {
      // A trailing metadata chunk cut short does not spoil samples already found.
      if (fmt && data) break;
      fail(`truncated: ${JSON.stringify(id)} chunk claims ${size} bytes but only ${remain} remain`);
    }
    at = body + size + (size & 1); // chunks are padded to an even length
  }
  if (!fmt) return fail(data ? 'corrupt: no fmt chunk' : 'truncated or corrupt: no fmt chunk');
  if (!data) return fail('truncated or corrupt: no data chunk');
  const frames = fmt.channels > 0 ? Math.floor(data.size / blockAlign) : 0;
  return { ...fmt, dataOffset: data.offset, frames };
}

function checkWidth(encoding: Encoding, width: number, bits: number, fail: (r: string) => never): void {
  if (encoding === 'float' && width !== 4 && width !== 8) fail(`unsupported encoding: ${8 * width}-bit float`);
  if ((encoding === 'ulaw' || encoding === 'alaw') && width !== 1) fail(`unsupported encoding: ${8 * width}-bit ${encoding}`);
  if (encoding === 'pcm' && (width > 4 || bits < 1 || bits > 8 * width)) fail(`unsupported encoding: ${bits}-bit PCM in ${width}-byte samples`);
}

function parseAiff(b: Uint8Array, v: DataView, aifc: boolean, fail: (r: string) => never): Layout {
  let comm: { channels: number; frames: number; bits: number; sampleRate: number; encoding: Encoding; littleEndian: boolean } | null = null;
  let ssnd: { offset: number; size: number } | null = null;
  let at = 12;
  while (at + 8 <= b.length) {
    const id = fourcc(b, at);
    const size = v.getUint32(at + 4, false);
    const body = at + 8;
    const remain = b.length - body;
    if (size > remain && !(id === 'SSND' || (comm && ssnd))) fail(`truncated: ${JSON.stringify(id)} chunk claims ${size} bytes but only ${remain} remain`);
    if (comm && ssnd && size > remain) break;
    if (id === 'COMM') {
      if (size < 18) fail(`corrupt COMM chunk (${size} bytes)`);
      const channels = v.getUint16(body, false);
      const frames = v.getUint32(body + 2, false);
      const bits = v.getUint16(body + 6, false);
      const sampleRate = readExtended(v, body + 8);
      let encoding: Encoding = 'pcm';
      let littleEndian = false;
      let floatBits = 0;
      if (aifc) {
        if (size < 22) fail(`corrupt AIFC COMM chunk (${size} bytes)`);
        const kind = fourcc(b, body + 18);
        if (kind === 'NONE' || kind === 'twos') encoding = 'pcm';
        else if (kind === 'sowt') littleEndian = true;
        else if (kind === 'fl32' || kind === 'FL32' || kind === 'fl64' || kind === 'FL64') {
          encoding = 'float';
          floatBits = kind.endsWith('64') ? 64 : 32;
        }
        else if (kind === 'ulaw' || kind === 'ULAW') encoding = 'ulaw';
        else if (kind === 'alaw' || kind === 'ALAW') encoding = 'alaw';
        else fail(`unsupported encoding: AIFC compression ${JSON.stringify(kind)}`);
      }
      comm = { channels, frames, bits: floatBits || bits, sampleRate, encoding, littleEndian };
    } else if (id === 'SSND') {
      if (size < 8 && size <= remain) fail(`corrupt SSND chunk (${size} bytes)`);
      if (remain < 8) fail('truncated: SSND chunk header cut short');
      const offset = v.getUint32(body, false);
      const avail = Math.min(size, remain) - 8;
      if (offset > avail) fail(`corrupt SSND chunk: data offset ${offset} beyond its ${avail} bytes`);
      ssnd = { offset: body + 8 + offset, size: avail - offset };
    }
    at = body + size + (size & 1);
  }
  if (!comm) return fail('truncated or corrupt: no COMM chunk');
  // Float (fl32/fl64, whatever the COMM bits say) and G.711 AIFC files have fixed widths; integer PCM is rounded up to whole bytes.
  let width: number;
  if (comm.encoding === 'float') width = comm.bits === 64 ? 8 : 4;
  else if (comm.encoding === 'pcm') width = Math.ceil(comm.bits / 8);
  else width = 1;
  checkWidth(comm.encoding, width, comm.encoding === 'pcm' ? comm.bits : 8 * width, fail);
  if (comm.frames === 0 || comm.channels === 0) {
    return { encoding: comm.encoding, littleEndian: comm.littleEndian, width, bits: comm.bits, unsigned8: false, channels: comm.channels, sampleRate: comm.sampleRate, dataOffset: 0, frames: 0 };
  }
  if (!ssnd) return fail('truncated or corrupt: no SSND chunk');
  const need = comm.frames * comm.channels * width;
  if (need > ssnd.size) fail(`truncated: COMM claims ${comm.frames} frames (${need} bytes) but SSND holds ${ssnd.size}`);
  return {
    encoding: comm.encoding,
    littleEndian: comm.littleEndian,
    width,
    bits: comm.encoding === 'pcm' ? comm.bits : 8 * width,
    unsigned8: false,
    channels: comm.channels,
    sampleRate: comm.sampleRate,
    dataOffset: ssnd.offset,
    frames: comm.frames,
  };
}

/** IEEE 754 80-bit extended (AIFF's sample rate): sign, 15-bit exponent, 64-bit mantissa with explicit integer bit. */
export function readExtended(v: DataView, at: number): number {
  const se = v.getUint16(at, false);
  const hi = v.getUint32(at + 2, false);
  const lo = v.getUint32(at + 6, false);
  const exp = se & 0x7fff;
  if (exp === 0x7fff) return NaN;
  const mant = hi * 2 ** 32 + lo;
  const value = mant * 2 ** (exp - 16383 - 63);
  return se & 0x8000 ? -value : value;
}

function decodeSamples(v: DataView, l: Layout): { samples: Float32Array; nonFinite: number } {
  const { channels, width, frames, littleEndian: le } = l;
  const out = new Float32Array(frames);
  const inv = 1 / channels;
  let nonFinite = 0;
  let p = l.dataOffset;
  const read = sampleReader(v, l);
  for (let f = 0; f < frames; f++) {
    let acc = 0;
    for (let c = 0; c < channels; c++, p += width) {
      let x = read(p, le);
      if (!Number.isFinite(x)) {
        nonFinite++;
        x = 0;
      }
      acc += x;
    }
    out[f] = acc * inv;
  }
  return { samples: out, nonFinite };
}

function sampleReader(v: DataView, l: Layout): (p: number, le: boolean) => number {
  const { encoding, width } = l;
  if (encoding === 'float') return width === 4 ? (p, le) => v.getFloat32(p, le) : (p, le) => v.getFloat64(p, le);
  if (encoding === 'ulaw') return (p) => ULAW[v.getUint8(p)]!;
  if (encoding === 'alaw') return (p) => ALAW[v.getUint8(p)]!;
  // Integer PCM: the significant bits sit at the top of the container (both WAV and AIFF);
  // dividing by the container's full scale gives the same result as shifting down first.
  const scale = 1 / 2 ** (8 * width - 1);
  switch (width) {
    case 1:
      return l.unsigned8 ? (p) => (v.getUint8(p) - 128) * scale : (p) => v.getInt8(p) * scale;
    case 2:
      return (p, le) => v.getInt16(p, le) * scale;
    case 3:
      return (p, le) => {
        const u = le ? v.getUint8(p) | (v.getUint8(p + 1) << 8) | (v.getInt8(p + 2) << 16) : (v.getInt8(p) << 16) | (v.getUint8(p + 1) << 8) | v.getUint8(p + 2);
        return u * scale;
      };
    default:
      return (p, le) => v.getInt32(p, le) * scale;
  }
}

/** G.711 μ-law expansion (ITU-T G.711), scaled to [-1, 1] by 1/32768. */
const ULAW = Float32Array.from({ length: 256 }, (_, i) => {
  const u = ~i & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return (u & 0x80 ? 0x84 - t : t - 0x84) / 32768;
});

/** G.711 A-law expansion, scaled to [-1, 1] by 1/32768. */
const ALAW = Float32Array.from({ length: 256 }, (_, i) => {
  const a = i ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = seg === 0 ? t + 8 : seg === 1 ? t + 0x108 : (t + 0x108) << (seg - 1);
  return (a & 0x80 ? t : -t) / 32768;
});

export interface ReadOptions extends DecodeOptions {
  /** Refuse files larger than this many bytes before reading them (default 256 MiB). */
  maxBytes?: number;
}

/** Reads and decodes an audio file with bounded memory: oversized files are refused before they are read. */
export async function readAudioFile(path: string, opts: ReadOptions = {}): Promise<DecodedAudio> {
  const maxBytes = opts.maxBytes ?? 256 * 2 ** 20;
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new AudioDecodeError(path, 'not a regular file');
    size = s.size;
  } catch (e) {
    if (e instanceof AudioDecodeError) throw e;
    throw new AudioDecodeError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (size > maxBytes) throw new AudioDecodeError(path, `file too large: ${size} bytes exceeds the limit of ${maxBytes}`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new AudioDecodeError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeAudio(bytes, path, opts);
}
