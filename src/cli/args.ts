// Shared argument handling for `ser` subcommands: each command declares its options
// once in a table (parseCommand), from which come its --help text, node:util's
// parseArgs map in strict mode (unknown options are errors) and the checked values;
// bad values are one-line errors.
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

export function choice<T extends string>(v: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
  return v as T;
}

/**
 * One table per command declares each option once: the help text (with its default),
 * node:util's parse map and the checked conversion all come from it.
 */
export type OptionDef =
  | { kind: 'flag'; help: string }
  | { kind: 'string'; arg: string; help: string; multiple?: true; default?: string }
  | { kind: 'int' | 'number'; arg: string; help: string; default: number; min?: number; max?: number; hideDefault?: true }
  | { kind: 'choice'; arg: string; help: string; values: readonly string[]; default: string };

type ValueOf<D extends OptionDef> = D extends { kind: 'flag' }
  ? boolean
  : D extends { kind: 'int' | 'number' }
    ? number
    : D extends { kind: 'choice'; values: readonly (infer C)[] }
      ? C
      : D extends { multiple: true }
        ? string[]
        : D extends { default: string }
          ? string
          : string | undefined;

export type Values<T extends Record<string, OptionDef>> = { [K in keyof T]: ValueOf<T[K]> };

export interface CommandDef<T extends Record<string, OptionDef>> {
  /** The usage line and the paragraph under it. */
  usage: string;
  about: string;
  options: T;
  positionals?: boolean;
  /** The positional arguments, listed above the options. */
  positionalHelp?: { name: string; help: string }[];
}

/** The help text of a command, options listed with their defaults. */
export function helpOf(def: CommandDef<Record<string, OptionDef>>): string {
  const entries = [
    ...(def.positionalHelp ?? []).map((p) => ({ left: `  ${p.name}`, text: p.help })),
    ...Object.entries(def.options).map(([name, o]) => {
      const dflt = o.kind === 'flag' || o.default === undefined || ('hideDefault' in o && o.hideDefault) ? '' : ` (${o.default})`;
      return { left: `  --${name}${o.kind === 'flag' ? '' : ` ${o.arg}`}`, text: `${o.help}${dflt}` };
    }),
  ];
  const column = Math.max(20, ...entries.map((e) => e.left.length)) + 2;
  const rows = entries.map(({ left, text }) => {
    const [first, ...rest] = text.split('\n');
    return `${left.padEnd(column)}${first}${rest.map((l) => `\n${' '.repeat(column)}${l}`).join('')}`;
  });
  return `${def.usage}\n\n${def.about}\n\n${rows.join('\n')}`;
}

/** Parses and converts argv by the table; null when --help was asked for (after printing it). */
export function parseCommand<T extends Record<string, OptionDef>>(argv: string[], def: CommandDef<T>): { values: Values<T>; positionals: string[]; help: string } | null {
  const help = helpOf(def as CommandDef<Record<string, OptionDef>>);
  const map: Options = {};
  for (const [name, o] of Object.entries(def.options)) map[name] = o.kind === 'flag' ? { type: 'boolean' } : { type: 'string', ...(o.kind === 'string' && o.multiple ? { multiple: true } : {}) };
  const parsed = parse(argv, map, help, def.positionals ?? false);
  if (!parsed) return null;
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(def.options)) {
    const v = parsed.values[name];
    switch (o.kind) {
      case 'flag':
        values[name] = Boolean(v);
        break;
      case 'int':
      case 'number':
        values[name] = num(v, name, o.default, { integer: o.kind === 'int', min: o.min, max: o.max });
        break;
      case 'choice':
        values[name] = choice(v, name, o.values, o.default);
        break;
      case 'string':
        values[name] = o.multiple ? ((v as string[] | undefined) ?? []) : (v ?? o.default);
    }
  }
  return { values: values as Values<T>, positionals: parsed.positionals, help };
}
