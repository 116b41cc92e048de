// Help text, generated from the command table's declarations: `lmsweep --help` lists the
// commands; `lmsweep X --help` shows X's usage line, arguments, options with their defaults and
// environment variables. Lines fit 100 columns.
import type { AnyCommand } from './command.ts';
import type { OptionDecl, Options } from './options.ts';
import { displayWidth, padToWidth, wrapWords } from './terminal-text.ts';

export const HELP_WIDTH = 100;
const LEFT_MAX = 30;

/** Two columns: `left` padded, `right` wrapped beside it (on the next line when left is too long). */
function twoColumns(rows: [string, string][], indent = 2): string[] {
  const leftWidth = Math.min(LEFT_MAX, Math.max(0, ...rows.map(([l]) => displayWidth(l))));
  const col = indent + leftWidth + 2;
  const lines: string[] = [];
  for (const [left, right] of rows) {
    const wrapped = wrapWords(right, HELP_WIDTH - col);
    const head = ' '.repeat(indent) + left;
    if (displayWidth(left) > leftWidth) {
      lines.push(head);
      for (const w of wrapped) lines.push(' '.repeat(col) + w);
    } else {
      lines.push(padToWidth(head, col) + wrapped[0]);
      for (const w of wrapped.slice(1)) lines.push(' '.repeat(col) + w);
    }
  }
  return lines;
}

function placeholder(name: string, o: OptionDecl): string {
  if (o.type === 'boolean') return '';
  if (o.value) return o.value;
  if (o.type === 'string' && o.choices && o.choices.join('|').length <= 24) return o.choices.join('|');
  return o.type === 'integer' ? 'N' : o.type === 'number' ? 'X' : name.toUpperCase().replace(/-/g, '_');
}

/** `--name VALUE` as the usage line and the options list show it. */
export function flagText(name: string, o: OptionDecl): string {
  const p = placeholder(name, o);
  return `--${name}${p ? ` ${p}` : ''}`;
}

function optionNotes(o: OptionDecl): string {
  const notes: string[] = [];
  if (o.type === 'string' && o.choices && o.choices.join('|').length > 24) notes.push(`one of ${o.choices.join(', ')}`);
  if (o.type === 'list') return ' [repeatable]';
  if (o.required) notes.push('required');
  const def = o.defaultText ?? (o.type !== 'boolean' && o.default !== undefined ? String(o.default) : undefined);
  if (def !== undefined) notes.push(`default: ${def}`);
  if (o.env) notes.push(`env ${o.env}`);
  return notes.length ? ` [${notes.join('; ')}]` : '';
}

function optionRows(options: Options): [string, string][] {
  const rows: [string, string][] = Object.entries(options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : '    '}${flagText(name, o)}`, `${o.description}${optionNotes(o)}`]);
  rows.push(['-h, --help', 'print this help and exit']);
  return rows;
}

/** The usage line: `lmsweep launch SPEC [options]`, required options spelled out. */
export function usageLine(path: string, c: AnyCommand): string {
  const parts = [path];
  if (c.subcommands?.length) parts.push(c.subcommandLabel ?? 'COMMAND');
  for (const a of c.args ?? []) parts.push(a.required ? a.name : `[${a.name}]`);
  for (const [name, o] of Object.entries(c.options as Options)) if (o.required) parts.push(flagText(name, o));
  parts.push('[options]');
  return parts.join(' ');
}

/** `lmsweep X --help`: path is the command as typed ("lmsweep bench train"). */
export function commandHelp(path: string, c: AnyCommand): string {
  const lines = [`usage: ${usageLine(path, c)}`, '', ...wrapWords(c.description ?? c.summary, HELP_WIDTH)];
  if (c.subcommands?.length) {
    lines.push('', `${c.subcommandNoun ?? 'command'}s:`, ...twoColumns(c.subcommands.map((s) => [s.name, s.summary])));
    lines.push('', `${path} ${c.subcommandLabel ?? 'COMMAND'} --help prints the options of one.`);
  }
  if (c.args?.length) lines.push('', 'arguments:', ...twoColumns(c.args.map((a) => [a.name, a.description])));
  lines.push('', 'options:', ...twoColumns(optionRows(c.options as Options)));
  const env = Object.entries(c.environment ?? {});
  if (env.length) lines.push('', 'environment:', ...twoColumns(env));
  return lines.join('\n');
}

/** `lmsweep --help`: every command with its summary. */
export function programHelp(commands: readonly AnyCommand[]): string {
  return [
    'lmsweep — sweeps of language-model compression experiments',
    '',
    'usage: lmsweep COMMAND [options]',
    '',
    'commands:',
    ...twoColumns(commands.map((c) => [c.name, c.summary])),
    '',
    'lmsweep COMMAND --help prints a command\'s options and their defaults (lmsweep help COMMAND too).',
  ].join('\n');
}
