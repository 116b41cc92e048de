// A command of the `lmsweep` table: its options and arguments declared once (options.ts), its
// help generated from them (usage.ts), its work in run(). Each command is one file in commands/.
import type { Options, PositionalDecl, Values } from './options.ts';

export interface CommandContext<O extends Options> {
  values: Values<O>;
  positionals: string[];
  /** The arguments after the command's name, as given (for a command that hands them on). */
  argv: string[];
  /** A line (or lines) to stdout, made terminal-safe. */
  out: (s: string) => void;
  /** A line (or lines) to stderr, made terminal-safe. */
  err: (s: string) => void;
}

export interface Command<O extends Options = Options> {
  name: string;
  /** One line, for the list of commands. */
  summary: string;
  /** More, for the command's own help (wrapped). */
  description?: string;
  options: O;
  args?: readonly PositionalDecl[];
  /** Environment variables the command reads besides its options' own, and what for. */
  environment?: Readonly<Record<string, string>>;
  /** Commands under this one (`lmsweep bench train`): the first argument picks one. */
  subcommands?: readonly AnyCommand[];
  /** The first argument's placeholder when there are subcommands (help shows `bench NAME`). */
  subcommandLabel?: string;
  /** What one subcommand is called in messages and help ("benchmark"; default "command"). */
  subcommandNoun?: string;
  /** The exit code. Absent for a command that only groups subcommands. */
  run?(ctx: CommandContext<O>): Promise<number>;
}

// The table holds commands of different option types; run's parameter is checked per command
// by defineCommand.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = Command<any>;

/** Declares a command; `const` keeps the option literals (choices, defaults) for typed values. */
export function defineCommand<const O extends Options>(c: Command<O>): Command<O> {
  return c;
}
