// The safetensors checkpoint format (huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {string: string}}, then the raw little-endian tensor bytes, offsets
// relative to the end of the header, packed with no gaps.
//
// The reader trusts nothing: header length against the file size, then the JSON, every
// dtype, shape and offset, and the expected model, are all checked before any tensor
// memory is allocated, so a truncated, corrupted or hostile file costs at most the
// header it declares (capped) and ends in a CheckpointError naming file and problem.
// Writes are atomic: temp file beside the target, fsync, rename, fsync the directory.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { endianness } from 'node:os';

const DTYPES = {
  F64: { size: 8, array: Float64Array },
  F32: { size: 4, array: Float32Array },
  // Half floats have no JS array type; their raw bits are kept.
  F16: { size: 2, array: Uint16Array },
  BF16: { size: 2, array: Uint16Array },
  I64: { size: 8, array: BigInt64Array },
  U64: { size: 8, array: BigUint64Array },
  I32: { size: 4, array: Int32Array },
  U32: { size: 4, array: Uint32Array },
  I16: { size: 2, array: Int16Array },
  U16: { size: 2, array: Uint16Array },
  I8: { size: 1, array: Int8Array },
  U8: { size: 1, array: Uint8Array },
  BOOL: { size: 1, array: Uint8Array },
} as const;

export type Dtype = keyof typeof DTYPES;
export type TensorData =
  | Float64Array | Float32Array | Uint16Array | Int16Array | BigInt64Array | BigUint64Array
  | Int32Array | Uint32Array | Int8Array | Uint8Array;

export interface TensorEntry {
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

export interface TensorSpec {
  dtype: Dtype;
  shape: readonly number[];
  /** May be absent; when present it is validated like the others. */
  optional?: boolean;
}

export interface Safetensors {
  tensors: Record<string, TensorEntry>;
  metadata: Record<string, string>;
}

export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`checkpoint ${file}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

/** The reference implementation refuses headers above 100 MB; so do we, before reading one. */
export const MAX_HEADER_BYTES = 100_000_000;

function assertLittleEndian(): void {
  // Typed arrays use host byte order; every platform Node ships on is little-endian.
  if (endianness() !== 'LE') throw new Error('safetensors I/O assumes a little-endian host');
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Writes tensors (in the given order) and string metadata atomically. */
export async function writeSafetensors(path: string, tensors: Record<string, TensorEntry>, metadata: Record<string, string> = {}): Promise<void> {
  assertLittleEndian();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`metadata ${k} must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new Error('a tensor cannot be named __metadata__');
    const spec = DTYPES[t.dtype];
    if (!spec) throw new Error(`tensor ${name}: unsupported dtype ${String(t.dtype)}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`tensor ${name}: bad shape [${t.shape.join(', ')}]`);
    if (!(t.data instanceof spec.array)) throw new Error(`tensor ${name}: ${t.dtype} needs a ${spec.array.name}, got ${t.data?.constructor?.name}`);
    if (t.data.length !== elementCount(t.shape)) {
      throw new Error(`tensor ${name}: shape [${t.shape.join(', ')}] holds ${elementCount(t.shape)} values, data has ${t.data.length}`);
    }
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad with spaces to 8 bytes so the data section starts aligned, as the reference writer does.
  const jsonBytes = Buffer.byteLength(json);
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.writeBigUInt64LE(BigInt(head.length - 8), 0);
  head.write(json, 8, 'utf8');
  chunks.unshift(head);
  writeAtomic(path, chunks);
}

function writeAtomic(path: string, chunks: Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    for (const c of chunks) {
      let done = 0;
      while (done < c.length) done += writeSync(fd, c, done, c.length - done);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Best effort: the write already failed and that is the error to report.
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems (and Windows) refuse fsync on a directory; the rename is still atomic.
  }
}

/** obj[key] = value as an own property, even for keys such as "__proto__" that a hostile header may use. */
function define<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Entry {
  name: string;
  dtype: Dtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Validates the parsed header against the data section's size; returns entries sorted by offset. */
function validateHeader(file: string, header: unknown, dataBytes: number): { entries: Entry[]; metadata: Record<string, string> } {
  const fail = (problem: string): never => {
    throw new CheckpointError(file, problem);
  };
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        define(metadata, k, v);
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) fail(`tensor ${name}: entry is not an object`);
    const { dtype, shape, data_offsets: off } = value as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) fail(`tensor ${name}: unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || shape.length > 16 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor ${name}: shape must be a list of at most 16 non-negative integers, got ${JSON.stringify(shape)?.slice(0, 80)}`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      fail(`tensor ${name}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)?.slice(0, 80)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataBytes) fail(`tensor ${name}: data_offsets [${begin}, ${end}] run past the ${dataBytes} data bytes in the file`);
    // Multiply step by step so a hostile shape is caught long before it overflows.
    const size = DTYPES[dtype as Dtype].size;
    let bytes = size;
    for (const d of shape as number[]) {
      bytes *= d;
      if (bytes > dataBytes) fail(`tensor ${name}: shape [${(shape as number[]).join(', ')}] needs more bytes than the file holds`);
    }
    if (end - begin !== bytes) fail(`tensor ${name}: shape [${(shape as number[]).join(', ')}] × ${size} bytes = ${bytes}, but data_offsets span ${end - begin}`);
    entries.push({ name, dtype: dtype as Dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin !== at) fail(e.begin < at ? `tensor ${e.name} overlaps the previous tensor` : `gap before tensor ${e.name} (bytes ${at}..${e.begin} unused)`);
    at = e.end;
  }
  if (at !== dataBytes) fail(`tensors cover ${at} bytes but the data section has ${dataBytes}`);
  return { entries, metadata };
}

function checkExpected(file: string, entries: Entry[], expected: Record<string, TensorSpec>): void {
  const have = new Map(entries.map((e) => [e.name, e]));
  const missing = Object.keys(expected).filter((n) => !have.has(n) && !expected[n]!.optional);
  const extra = entries.map((e) => e.name).filter((n) => !Object.hasOwn(expected, n));
  const list = (a: string[]) => a.slice(0, 5).join(', ') + (a.length > 5 ? `, … (${a.length})` : '');
  if (missing.length) throw new CheckpointError(file, `missing tensors: ${list(missing)}`);
  if (extra.length) throw new CheckpointError(file, `unexpected tensors: ${list(extra)}`);
  for (const [name, spec] of Object.entries(expected)) {
    const e = have.get(name);
    if (!e) continue;
    if (e.dtype !== spec.dtype) throw new CheckpointError(file, `tensor ${name}: dtype ${e.dtype}, model expects ${spec.dtype}`);
    if (e.shape.length !== spec.shape.length || e.shape.some((d, i) => d !== spec.shape[i])) {
      throw new CheckpointError(file, `tensor ${name}: shape [${e.shape.join(', ')}], model expects [${spec.shape.join(', ')}]`);
    }
  }
}

/**
 * Reads a safetensors file. With `expected`, the file must hold exactly those tensors
 * with those dtypes and shapes. Every problem with the file is a CheckpointError.
 */
export async function readSafetensors(path: string, expected?: Record<string, TensorSpec>): Promise<Safetensors> {
  assertLittleEndian();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CheckpointError(path, `cannot open: ${(e as Error).message}`);
  }
  try {
    const read = (buf: Uint8Array, position: number, what: string) => {
      let done = 0;
      while (done < buf.length) {
        const n = readSync(fd, buf, done, buf.length - done, position + done);
        if (n === 0) throw new CheckpointError(path, `file ended while reading ${what}`);
        done += n;
      }
    };
    const fileBytes = fstatSync(fd).size;
    if (fileBytes < 8) throw new CheckpointError(path, `file is ${fileBytes} bytes, too short for the 8-byte header length`);
    const lenBuf = Buffer.alloc(8);
    read(lenBuf, 0, 'the header length');
    const headerLen = lenBuf.readBigUInt64LE(0);
    if (headerLen > BigInt(fileBytes - 8)) throw new CheckpointError(path, `header length ${headerLen} exceeds the file's ${fileBytes - 8} remaining bytes`);
    if (headerLen > BigInt(MAX_HEADER_BYTES)) throw new CheckpointError(path, `header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    const n = Number(headerLen);
    if (n < 2) throw new CheckpointError(path, `header length ${n} is too small for a JSON object`);
    const headBuf = Buffer.alloc(n);
    read(headBuf, 8, 'the header');
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headBuf));
    } catch (e) {
      throw new CheckpointError(path, `header is not valid UTF-8 JSON (${(e as Error).message.slice(0, 100)})`);
    }
    const dataStart = 8 + n;
    const { entries, metadata } = validateHeader(path, header, fileBytes - dataStart);
    if (expected) checkExpected(path, entries, expected);
    // Only now, with every size proven to fit in the file, is tensor memory allocated.
    const tensors: Record<string, TensorEntry> = {};
    for (const e of entries) {
      const spec = DTYPES[e.dtype];
      const data = new spec.array(elementCount(e.shape));
      read(new Uint8Array(data.buffer, 0, data.byteLength), dataStart + e.begin, `tensor ${e.name}`);
      define(tensors, e.name, { dtype: e.dtype, shape: e.shape, data });
    }
    return { tensors, metadata };
  } catch (e) {
    // I/O failures mid-read (EISDIR, EIO, a file shrinking underneath us) are the file's problem too.
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(path, `read failed: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a safetensors file already in memory — what a web page fetched — with the
 * checks of `readSafetensors`; `file` names it in errors. Uses no Node module.
 */
export function parseSafetensors(file: string, bytes: Uint8Array, expected?: Record<string, TensorSpec>): Safetensors {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('safetensors I/O assumes a little-endian host');
  if (bytes.length < 8) throw new CheckpointError(file, `file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (headerLen > BigInt(bytes.length - 8)) throw new CheckpointError(file, `header length ${headerLen} exceeds the file's ${bytes.length - 8} remaining bytes`);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) throw new CheckpointError(file, `header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLen);
  if (n < 2) throw new CheckpointError(file, `header length ${n} is too small for a JSON object`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new CheckpointError(file, `header is not valid UTF-8 JSON (${(e as Error).message.slice(0, 100)})`);
  }
  const dataStart = 8 + n;
  const { entries, metadata } = validateHeader(file, header, bytes.length - dataStart);
  if (expected) checkExpected(file, entries, expected);
  const tensors: Record<string, TensorEntry> = {};
  for (const e of entries) {
    const data = new DTYPES[e.dtype].array(elementCount(e.shape));
    new Uint8Array(data.buffer, 0, data.byteLength).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    define(tensors, e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}
