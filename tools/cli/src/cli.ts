// Dispatch over the command table: `lmsweep COMMAND [SUBCOMMAND] [options]`. Help never does
// work: `--help`/`-h` prints the generated usage and returns 0 before anything runs. A bad
// command line exits 2 naming the flag; any other failure exits 1 with a readable message.
import type { AnyCommand } from './command.ts';
import { parseOptions, UsageError, wantsHelp } from './options.ts';
import { safeText } from './terminal-text.ts';
import { commandHelp, programHelp } from './usage.ts';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const processIo: CliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

/** A writer of lines that makes each terminal-safe (newlines kept; see terminal-text.ts). */
export const lineWriter = (write: (s: string) => void) => (s: string) => write(`${safeText(s.endsWith('\n') ? s.slice(0, -1) : s, { multiline: true })}\n`);

async function runCommand(path: string, cmd: AnyCommand, argv: string[], io: CliIo): Promise<number> {
  const out = lineWriter(io.stdout);
  const err = lineWriter(io.stderr);
  try {
    if (cmd.subcommands?.length) {
      const label = cmd.subcommandNoun ?? 'command';
      const names = cmd.subcommands.map((s) => s.name).join(', ');
      const first = argv[0];
      if (first !== undefined && !first.startsWith('-')) {
        const sub = cmd.subcommands.find((s) => s.name === first);
        if (!sub) throw new UsageError(`no ${label} named "${first}"; available: ${names}`);
        return await runCommand(`${path} ${first}`, sub, argv.slice(1), io);
      }
      if (wantsHelp(argv)) {
        out(commandHelp(path, cmd));
        return 0;
      }
      if (!cmd.run) throw new UsageError(`${path} needs a ${label}: one of ${names}`);
    }
    const parsed = parseOptions({ options: cmd.options, args: cmd.args }, argv);
    if (parsed.help || !cmd.run) {
      out(commandHelp(path, cmd));
      return 0;
    }
    return await cmd.run({ values: parsed.values, positionals: parsed.positionals, argv, out, err });
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${path}: ${e.message}\n(${path} --help lists its options)`);
      return 2;
    }
    const { describeApiError } = await import('./client.ts');
    err(`lmsweep: ${describeApiError(e)}`);
    return 1;
  }
}

/** Runs one command line against the table; resolves to the exit code. */
export async function runCli(commands: readonly AnyCommand[], argv: string[], io: CliIo = processIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    lineWriter(io.stderr)(programHelp(commands));
    return 2;
  }
  if (first === '--help' || first === '-h' || (first === 'help' && rest.length === 0)) {
    lineWriter(io.stdout)(programHelp(commands));
    return 0;
  }
  if (first === 'help') return runCli(commands, [...rest, '--help'], io);
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) {
    lineWriter(io.stderr)(`lmsweep: unknown command "${first}"\n(lmsweep --help lists the commands)`);
    return 2;
  }
  return runCommand(`lmsweep ${first}`, cmd, rest, io);
}
