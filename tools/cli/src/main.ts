// lmsweep: the command line. The commands and their options are declared in commands/ (one file
// each); cli.ts dispatches, usage.ts writes the help from the same declarations.
import { runCli } from './cli.ts';
import { COMMANDS } from './commands/index.ts';

process.exitCode = await runCli(COMMANDS, process.argv.slice(2));
// Long-running commands (coordinator, worker, demo) return when they have stopped; nothing
// else should keep the process alive, but a stray handle must not either.
process.exit(process.exitCode);
