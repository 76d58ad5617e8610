// Shared argument handling for `ser` subcommands: node:util parseArgs in strict
// mode (unknown options are errors), `--help` on every command, one-line errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type Options = NonNullable<ParseArgsConfig['options']>;

import { UsageError } from '../util/errors.js';

export { UsageError };

export interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** Parses argv for a command; returns null when --help was asked for (after printing it). */
export function parse(argv: string[], options: Options, help: string, allowPositionals = false): Parsed | null {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true }) as Parsed;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]}\n\n${help}`);
  }
  if (parsed.values.help) {
    process.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
    return null;
  }
  return parsed;
}

export function num(v: unknown, name: string, fallback: number, { integer = false, min = -Infinity, max = Infinity } = {}): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    const range = `${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}`;
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}${range}, got '${String(v)}'`);
  }
  return n;
}

export function str(v: unknown, fallback: string): string;
export function str(v: unknown): string | undefined;
export function str(v: unknown, fallback?: string): string | undefined {
  return v === undefined ? fallback : String(v);
}

export function choice<T extends string>(v: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
  return v as T;
}
