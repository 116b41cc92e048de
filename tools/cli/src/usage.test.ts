import { describe, expect, it } from 'vitest';
import type { AnyCommand } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import type { Options } from './options.ts';
import { displayWidth } from './terminal-text.ts';
import { commandHelp, flagText, HELP_WIDTH, programHelp } from './usage.ts';

/** Every command and subcommand with the path a person types. */
const all = (cs: readonly AnyCommand[], prefix = 'lmsweep'): [string, AnyCommand][] => cs.flatMap((c) => [[`${prefix} ${c.name}`, c] as [string, AnyCommand], ...all(c.subcommands ?? [], `${prefix} ${c.name}`)]);

describe('generated help', () => {
  it('lists every command with its summary', () => {
    const text = programHelp(COMMANDS);
    const lines = text.split('\n');
    for (const c of COMMANDS) expect(lines.find((l) => l.startsWith(`  ${c.name} `))).toContain(c.summary.split(' ').slice(0, 3).join(' '));
  });

  it.each(all(COMMANDS))('%s --help: usage line, every option with its default and env, lines within %i columns', (path, c) => {
    const text = commandHelp(path, c);
    expect(text.split('\n')[0]).toMatch(new RegExp(`^usage: ${path}`));
    for (const [name, o] of Object.entries(c.options as Options)) {
      expect(text).toContain(flagText(name, o));
      const def = o.defaultText ?? (o.type !== 'boolean' ? o.default : undefined);
      if (def !== undefined) expect(text.replace(/\s+/g, ' ')).toContain(`default: ${def}`);
      if (o.env) expect(text.replace(/\s+/g, ' ')).toContain(`env ${o.env}`);
    }
    for (const s of c.subcommands ?? []) expect(text).toMatch(new RegExp(`^  ${s.name} `, 'm'));
    expect(text).toContain('-h, --help');
    for (const line of text.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(HELP_WIDTH);
  });

  it('shows the worker\'s defaults as the issue asked (backend auto, threads auto, native on, coordinator URL)', () => {
    const text = commandHelp('lmsweep worker', COMMANDS.find((c) => c.name === 'worker')!).replace(/\s+/g, ' ');
    expect(text).toContain('--backend BACKEND TensorFlow.js backend');
    expect(text).toMatch(/one of auto, tensorflow-gpu, tensorflow, wasm, cpu; default: auto/);
    expect(text).toMatch(/--threads N\|auto .*default: auto; env LMSWEEP_WASM_THREADS/);
    expect(text).toMatch(/--coordinator URL .*default: http:\/\/127\.0\.0\.1:4317; env LMSWEEP_URL/);
  });
});
