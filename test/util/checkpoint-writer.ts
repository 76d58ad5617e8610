// Child process of test/kill9.test.ts: writes versions of a checkpoint and of a
// JSON state file, atomically, as fast as it can, and prints each version number
// once both files of that version are on disk. The parent kills it with SIGKILL.
//
// Version v is recognisable from its contents alone: every value of every tensor
// is v and the tensor's length depends on v, so a torn or mixed file cannot pass
// for a complete one.
import { join } from 'node:path';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { writeJsonAtomic } from '../../src/util/atomic.js';

export function versionLength(v: number): number {
  return 100_000 + (v % 7) * 40_000;
}

async function main(): Promise<void> {
  const [dir, first] = process.argv.slice(2);
  if (!dir || !first) throw new Error('usage: checkpoint-writer DIR FIRST_VERSION');
  for (let v = Number(first); ; v++) {
    const n = versionLength(v);
    await writeSafetensors(
      join(dir, 'ckpt.safetensors'),
      { weights: { dtype: 'F32', shape: [n], data: new Float32Array(n).fill(v) }, step: { dtype: 'I32', shape: [1], data: Int32Array.of(v) } },
      { version: String(v) },
    );
    await writeJsonAtomic(join(dir, 'state.json'), { version: v, values: new Array<number>(n / 10).fill(v) });
    process.stdout.write(`${v}\n`);
  }
}

if (process.argv[1]?.endsWith('checkpoint-writer.ts')) await main();
