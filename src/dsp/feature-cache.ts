// On-disk cache of computed features, keyed by sha256 of the audio file's bytes
// and of the settings JSON, so a second run over a corpus recomputes nothing.
// Entries are written to a temporary name and renamed into place (atomic on
// POSIX), so a crash never leaves a half-written entry under a valid key.
//
// Entry format: 'SERF' magic, u32 header length, JSON header {shape}, padding to
// 4 bytes, then the float32 little-endian data.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface CachedArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = 0x46524553; // 'SERF' little-endian

/** Stable JSON: object keys sorted, so equal settings give equal keys. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export class FeatureCache {
  hits = 0;
  misses = 0;

  constructor(readonly dir: string = join(process.cwd(), '.cache', 'features')) {}

  /** Key of a file's features under given settings. */
  static key(fileBytes: Uint8Array, settings: unknown): string {
    const h = createHash('sha256');
    h.update(fileBytes);
    h.update('\0');
    h.update(stableJson(settings));
    return h.digest('hex');
  }

  private path(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.f32`);
  }

  async get(key: string): Promise<CachedArray | null> {
    let b: Buffer;
    try {
      b = await readFile(this.path(key));
    } catch {
      this.misses++;
      return null;
    }
    const entry = parseEntry(b);
    if (entry) this.hits++;
    else this.misses++;
    return entry;
  }

  async put(key: string, value: CachedArray): Promise<void> {
    const header = Buffer.from(JSON.stringify({ shape: value.shape }), 'utf8');
    const headLen = 8 + header.length;
    const pad = (4 - (headLen % 4)) % 4;
    const out = Buffer.alloc(headLen + pad + value.data.byteLength);
    out.writeUInt32LE(MAGIC, 0);
    out.writeUInt32LE(header.length, 4);
    header.copy(out, 8);
    Buffer.from(value.data.buffer, value.data.byteOffset, value.data.byteLength).copy(out, headLen + pad);
    const final = this.path(key);
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
    const tmp = `${final}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, out);
      await rename(tmp, final);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  /** The cached value for (file bytes, settings), computing and storing it on a miss. */
  async getOrCompute(fileBytes: Uint8Array, settings: unknown, compute: () => Promise<CachedArray>): Promise<CachedArray> {
    const key = FeatureCache.key(fileBytes, settings);
    const hit = await this.get(key);
    if (hit) return hit;
    const v = await compute();
    await this.put(key, v);
    return v;
  }
}

/** Decodes an entry; null for anything malformed (treated as a miss and overwritten). */
function parseEntry(b: Buffer): CachedArray | null {
  if (b.length < 8 || b.readUInt32LE(0) !== MAGIC) return null;
  const hl = b.readUInt32LE(4);
  if (8 + hl > b.length) return null;
  let shape: number[];
  try {
    shape = (JSON.parse(b.subarray(8, 8 + hl).toString('utf8')) as { shape: number[] }).shape;
  } catch {
    return null;
  }
  const start = 8 + hl + ((4 - ((8 + hl) % 4)) % 4);
  const n = shape.reduce((a, x) => a * x, 1);
  if (!Array.isArray(shape) || !Number.isInteger(n) || start + 4 * n !== b.length) return null;
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(b.subarray(start));
  return { shape, data };
}
