// Command-line options, declared once (name, type, default, description): parsing, validation
// and the help text (usage.ts) all come from the one declaration. Over node's util.parseArgs.
import { parseArgs } from 'node:util';

/** A bad command line (exit 2): the message names the flag or argument. */
export class UsageError extends Error {
  override name = 'UsageError';
}

interface OptionBase {
  description: string;
  /** A one-letter alias (-x). */
  short?: string;
  /** The value's placeholder in help: `--port P`. */
  value?: string;
  /** An environment variable read when the flag is absent (an empty value counts as absent). */
  env?: string;
  /** The default as help shows it, where `default` cannot say it (a computed default). */
  defaultText?: string;
  /** Refused when absent (and no env value). */
  required?: boolean;
}
export interface BooleanOption extends OptionBase {
  type: 'boolean';
}
export interface StringOption extends OptionBase {
  type: 'string';
  default?: string;
  choices?: readonly string[];
  /** Values must match; `expected` says what in the error (e.g. "an integer or auto"). */
  pattern?: RegExp;
  expected?: string;
}
export interface IntegerOption extends OptionBase {
  type: 'integer';
  default?: number;
  /** Smallest value (default 0). */
  min?: number;
  max?: number;
}
export interface NumberOption extends OptionBase {
  type: 'number';
  default?: number;
  /** Values must be > 0. */
  positive?: boolean;
  min?: number;
}
/** A string option that may be given several times (`--sbatch-arg A --sbatch-arg B`): every value, in order. */
export interface ListOption extends Omit<OptionBase, 'env' | 'required'> {
  type: 'list';
  env?: never;
  required?: never;
  default?: never;
  pattern?: RegExp;
  expected?: string;
}
export type OptionDecl = BooleanOption | StringOption | IntegerOption | NumberOption | ListOption;
export type Options = Readonly<Record<string, OptionDecl>>;

export interface PositionalDecl {
  name: string;
  description: string;
  required?: boolean;
}

type ValueOf<D> = D extends { type: 'boolean' } ? boolean : D extends { type: 'list' } ? string[] : D extends { type: 'integer' | 'number' } ? number : D extends { choices: readonly (infer C)[] } ? C : string;
type Defined<D> = D extends { type: 'boolean' | 'list' } ? true : D extends { default: unknown } ? true : D extends { required: true } ? true : false;

/** The parsed values of a declaration: an option with a default (or required) is always there. */
export type Values<O extends Options> = { -readonly [K in keyof O]: Defined<O[K]> extends true ? ValueOf<O[K]> : ValueOf<O[K]> | undefined };

export interface Parsed<O extends Options> {
  values: Values<O>;
  positionals: string[];
  /** --help or -h was given: print the usage, do nothing else. */
  help: boolean;
}

/** What a command line is parsed against: its options and positional arguments. */
export interface ParseTarget<O extends Options> {
  options: O;
  args?: readonly PositionalDecl[];
}

const HELP_TOKENS = new Set(['--help', '-h']);

/** True when argv asks for help (before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (HELP_TOKENS.has(a)) return true;
  }
  return false;
}

function describeParseError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  const quoted = /'([^']+)'/.exec(msg)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? msg}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(msg)) return `${quoted ?? 'an option'} takes no value`;
      return `${quoted?.split(' ')[0] ?? 'an option'} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted ?? msg}"`;
    default:
      return msg;
  }
}

const flagName = (name: string) => `--${name}`;

function check(name: string, o: OptionDecl, raw: string, source: string): string | number {
  const got = `got "${raw}"`;
  switch (o.type) {
    case 'integer': {
      const min = o.min ?? 0;
      const n = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < min || (o.max !== undefined && n > o.max)) {
        const what = o.max !== undefined ? `an integer from ${min} to ${o.max}` : min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
        throw new UsageError(`${source} must be ${what}, ${got}`);
      }
      return n;
    }
    case 'number': {
      const n = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n) || (o.positive && n <= 0) || (o.min !== undefined && n < o.min)) {
        throw new UsageError(`${source} must be a ${o.positive ? 'positive ' : ''}number${o.min !== undefined ? ` ≥ ${o.min}` : ''}, ${got}`);
      }
      return n;
    }
    case 'list':
      if (o.pattern && !o.pattern.test(raw)) throw new UsageError(`${source} must be ${o.expected ?? `like ${o.pattern}`}, ${got}`);
      return raw;
    case 'string':
      if (o.choices && !o.choices.includes(raw)) throw new UsageError(`${source} must be one of ${o.choices.join(', ')}; ${got}`);
      if (o.pattern && !o.pattern.test(raw)) throw new UsageError(`${source} must be ${o.expected ?? `like ${o.pattern}`}, ${got}`);
      return raw;
    case 'boolean':
      throw new Error(`${name}: boolean options carry no value`);
  }
}

/**
 * Parses argv against a declaration: unknown flags, bad values and missing required options or
 * arguments throw UsageError naming them; an absent option takes its environment variable, then
 * its default. With --help/-h anywhere (before `--`), returns { help: true } and validates nothing.
 */
export function parseOptions<const O extends Options>(target: ParseTarget<O>, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Parsed<O> {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(target.options)) config[name] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.type === 'list' ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
  const help = wantsHelp(argv);
  let raw: { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
  try {
    raw = parseArgs({ args: [...argv], options: config, allowPositionals: true, strict: true }) as typeof raw;
  } catch (e) {
    if (help) return { values: {} as Values<O>, positionals: [], help: true };
    throw new UsageError(describeParseError(e));
  }
  if (help || raw.values.help) return { values: {} as Values<O>, positionals: raw.positionals, help: true };

  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(target.options)) {
    const v = raw.values[name];
    if (o.type === 'boolean') {
      values[name] = v === true;
      continue;
    }
    if (o.type === 'list') {
      values[name] = (Array.isArray(v) ? v : []).map((x) => check(name, o, x, flagName(name)));
      continue;
    }
    const fromEnv = o.env !== undefined && env[o.env] !== undefined && env[o.env] !== '' ? env[o.env] : undefined;
    if (typeof v === 'string') values[name] = check(name, o, v, flagName(name));
    else if (fromEnv !== undefined) values[name] = check(name, o, fromEnv, `$${o.env} (for ${flagName(name)})`);
    else if (o.default !== undefined) values[name] = o.default;
    else if (o.required) throw new UsageError(`${flagName(name)}${o.value ? ` ${o.value}` : ''} is required`);
    else values[name] = undefined;
  }

  const args = target.args ?? [];
  if (raw.positionals.length > args.length) {
    const extra = raw.positionals[args.length]!;
    throw new UsageError(args.length ? `unexpected argument "${extra}" (it takes ${args.map((a) => a.name).join(' ')})` : `unexpected argument "${extra}" (it takes no arguments)`);
  }
  const missing = args.slice(raw.positionals.length).find((a) => a.required);
  if (missing) throw new UsageError(`${missing.name} is required: ${missing.description}`);
  return { values: values as Values<O>, positionals: raw.positionals, help: false };
}
