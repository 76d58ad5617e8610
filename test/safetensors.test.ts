import { describe, expect, it, afterAll } from 'vitest';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, MAX_HEADER_BYTES, readSafetensors, writeSafetensors, type TensorEntry } from '../src/model/safetensors.js';
import { Rng } from '../src/util/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(): Record<string, TensorEntry> {
  return {
    'conv1.kernel': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3.25, 0, -0, 1e-30]) },
    'bn1.moving_var': { dtype: 'F32', shape: [], data: Float32Array.of(0.75) },
    labels: { dtype: 'U32', shape: [4], data: Uint32Array.from([0, 1, 4294967295, 7]) },
    step: { dtype: 'I64', shape: [1, 3], data: BigInt64Array.from([-1n, 2n ** 62n, 0n]) },
    empty: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
    weights64: { dtype: 'F64', shape: [2], data: Float64Array.from([Math.PI, -Math.E]) },
  };
}

const expectedOf = (t: Record<string, TensorEntry>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { dtype: v.dtype, shape: v.shape }]));

/** Header JSON and data section of a file, for hand-made variants. */
function split(bytes: Buffer): { header: Record<string, any>; data: Buffer } {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString()), data: bytes.subarray(8 + n) };
}

function assemble(header: unknown, data: Uint8Array, lengthOverride?: bigint): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

async function readBytes(bytes: Uint8Array, expected?: Parameters<typeof readSafetensors>[1]) {
  const p = join(dir, 'case.safetensors');
  writeFileSync(p, bytes);
  return readSafetensors(p, expected);
}

async function rejects(bytes: Uint8Array, msg: RegExp, expected?: Parameters<typeof readSafetensors>[1]): Promise<void> {
  const err = await readBytes(bytes, expected).then(() => null, (e: unknown) => e);
  expect(err, `expected a CheckpointError matching ${msg}`).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(msg);
  expect((err as Error).message).toContain('case.safetensors');
}

describe('safetensors round trip', () => {
  it('writes the documented layout and reads back every dtype, shape and the metadata', async () => {
    const path = join(dir, 'model.safetensors');
    const t = sample();
    await writeSafetensors(path, t, { format: 'ser-webgpu', epoch: '3' });
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8, 'data section 8-byte aligned').toBe(0);
    const { header, data } = split(bytes);
    expect(header.__metadata__).toEqual({ format: 'ser-webgpu', epoch: '3' });
    expect(header['conv1.kernel']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(data.length).toBe(24 + 4 + 16 + 24 + 0 + 16);
    expect(data.readFloatLE(8)).toBe(3.25);

    const back = await readSafetensors(path, expectedOf(t));
    expect(back.metadata).toEqual({ format: 'ser-webgpu', epoch: '3' });
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(t).sort());
    for (const [k, v] of Object.entries(t)) {
      expect(back.tensors[k]!.dtype, k).toBe(v.dtype);
      expect(back.tensors[k]!.shape, k).toEqual(v.shape);
      expect(back.tensors[k]!.data, k).toEqual(v.data);
      expect(back.tensors[k]!.data.constructor, k).toBe(v.data.constructor);
    }
    expect(Object.is(back.tensors['conv1.kernel']!.data[4], -0)).toBe(true);
  });

  it('replaces an existing file atomically and leaves no temporary files', async () => {
    const path = join(dir, 'atomic', 'last.safetensors');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'atomic'));
    await writeSafetensors(path, sample());
    await writeSafetensors(path, { x: { dtype: 'F32', shape: [1], data: Float32Array.of(9) } });
    expect(readdirSync(join(dir, 'atomic'))).toEqual(['last.safetensors']);
    expect((await readSafetensors(path)).tensors.x!.data[0]).toBe(9);
    await expect(writeSafetensors(join(dir, 'no-such-dir', 'a.safetensors'), sample())).rejects.toThrow(/ENOENT/);
  });

  it('refuses to write inconsistent tensors', async () => {
    const p = join(dir, 'bad.safetensors');
    await expect(writeSafetensors(p, { a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).rejects.toThrow(/holds 3 values, data has 2/);
    await expect(writeSafetensors(p, { a: { dtype: 'U32', shape: [2], data: new Float32Array(2) } })).rejects.toThrow(/needs a Uint32Array/);
  });
});

describe('safetensors validation', () => {
  const good = (() => {
    const t = sample();
    const p = join(dir, 'good.safetensors');
    return writeSafetensors(p, t).then(() => readFileSync(p));
  })();

  it('checks the file against the expected model before allocating', async () => {
    const bytes = await good;
    const exp = expectedOf(sample());
    await rejects(bytes, /missing tensors: extra/, { ...exp, extra: { dtype: 'F32', shape: [1] } });
    const { labels: _drop, ...fewer } = exp;
    await rejects(bytes, /unexpected tensors: labels/, fewer);
    await rejects(bytes, /tensor labels: dtype U32, model expects F32/, { ...exp, labels: { dtype: 'F32', shape: [4] } });
    await rejects(bytes, /tensor conv1.kernel: shape \[2, 3\], model expects \[3, 2\]/, { ...exp, 'conv1.kernel': { dtype: 'F32', shape: [3, 2] } });
  });

  it('rejects corrupt headers with a clear reason', async () => {
    const { header, data } = split(await good);
    const h = (patch: (x: Record<string, any>) => void) => {
      const c = structuredClone(header);
      patch(c);
      return assemble(c, data);
    };
    await rejects(Buffer.alloc(5), /too short for the 8-byte header length/);
    await rejects(assemble(header, data, 1n << 62n), /header length 4611686018427387904 exceeds the file's/);
    await rejects(assemble(header, data, 1n), /too small/);
    await rejects(Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a"')]), /not valid UTF-8 JSON/);
    await rejects(Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc3, 0x28])]), /not valid UTF-8 JSON/);
    await rejects(assemble([1, 2], Buffer.alloc(0)), /not a JSON object/);
    await rejects(h((x) => (x.labels.dtype = 'Q8')), /tensor labels: unsupported dtype "Q8"/);
    await rejects(h((x) => (x.labels.shape = [4.5])), /tensor labels: shape must be/);
    await rejects(h((x) => (x.labels.shape = [-4])), /tensor labels: shape must be/);
    await rejects(h((x) => (x.labels.data_offsets = [8, 4])), /data_offsets must be/);
    await rejects(h((x) => (x.labels.data_offsets[1] += 1e6)), /run past the \d+ data bytes/);
    await rejects(h((x) => (x.labels.shape = [5])), /needs more bytes|span/);
    await rejects(h((x) => (x.labels.shape = [3])), /× 4 bytes = 12, but data_offsets span 16/);
    await rejects(h((x) => (x.__metadata__ = { a: 1 })), /__metadata__.a is not a string/);
    await rejects(h((x) => delete x.labels), /gap before tensor/);
    await rejects(assemble(header, Buffer.concat([data, Buffer.alloc(4)])), /cover \d+ bytes but the data section has \d+/);
    await rejects(
      h((x) => {
        x.copy = { ...x.step, data_offsets: [...x.step.data_offsets] };
      }),
      /overlaps/,
    );
  });

  it('hostile sizes are refused without allocating them', async () => {
    const before = process.memoryUsage().arrayBuffers;
    // A 2^40-element tensor in a tiny file.
    const huge = assemble({ w: { dtype: 'F32', shape: [1 << 20, 1 << 20], data_offsets: [0, 4 * 2 ** 40] } }, Buffer.alloc(16));
    await rejects(huge, /run past the 16 data bytes/);
    const huge2 = assemble({ w: { dtype: 'F64', shape: [65536, 65536, 65536, 65536], data_offsets: [0, 16] } }, Buffer.alloc(16));
    await rejects(huge2, /needs more bytes than the file holds/);
    // A header length above the 100 MB cap in a (sparse) file big enough to hold it.
    const p = join(dir, 'case.safetensors');
    const fd = openSync(p, 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(MAX_HEADER_BYTES + 8));
    writeSync(fd, len);
    ftruncateSync(fd, MAX_HEADER_BYTES + 64);
    closeSync(fd);
    const err = await readSafetensors(p).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/exceeds the 100000000-byte limit/);
    const grown = process.memoryUsage().arrayBuffers - before;
    console.log(`array-buffer memory grown while reading hostile files: ${grown} bytes`);
    expect(grown).toBeLessThan(8 << 20);
  });

  it('keeps "__proto__" as an ordinary tensor name', async () => {
    const bytes = Buffer.concat([Buffer.alloc(8), Buffer.from('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'), Buffer.from([42])]);
    bytes.writeBigUInt64LE(BigInt(bytes.length - 9));
    const r = await readBytes(bytes);
    expect(Object.keys(r.tensors)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(r.tensors, '__proto__')!.value.data[0]).toBe(42);
  });

  it('fuzz: random mutations and truncations only ever give CheckpointError', async () => {
    const base = await good;
    const rng = new Rng(2024);
    const headerEnd = 8 + Number(base.readBigUInt64LE(0));
    const outcomes = { ok: 0, rejected: 0 };
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 2500 && n < 20000) {
      n++;
      let b = Buffer.from(base);
      const kind = rng.int(6);
      if (kind === 0) b = b.subarray(0, rng.int(b.length));
      else if (kind === 1) for (let k = 1 + rng.int(4); k > 0; k--) b[rng.int(headerEnd)] = rng.int(256);
      else if (kind === 2) b[8 + rng.int(headerEnd - 8)] = '0123456789-.e,[]{}":'.charCodeAt(rng.int(20));
      else if (kind === 3) b.writeUInt32LE(rng.nextU32(), rng.int(2) * 4);
      else if (kind === 4) b = Buffer.concat([b.subarray(0, rng.int(b.length)), Buffer.from([rng.int(256)]), b.subarray(rng.int(b.length))]);
      else b[rng.int(b.length)] = rng.int(256);
      try {
        await readBytes(b, rng.int(2) ? expectedOf(sample()) : undefined);
        outcomes.ok++;
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw new Error(`mutation ${n} (kind ${kind}) threw ${(e as Error)?.stack ?? e}`);
        outcomes.rejected++;
      }
    }
    console.log(`fuzz: ${n} mutated files in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${outcomes.rejected} rejected with CheckpointError, ${outcomes.ok} read`);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });
});

describe('safetensors I/O errors', () => {
  it('a missing file or a directory is a CheckpointError too', async () => {
    await expect(readSafetensors(join(dir, 'absent.safetensors'))).rejects.toThrow(CheckpointError);
    await expect(readSafetensors(dir)).rejects.toThrow(CheckpointError);
  });
});
