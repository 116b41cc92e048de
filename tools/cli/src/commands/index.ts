// The command table of `lmsweep`, in the order `lmsweep --help` lists it.
import type { AnyCommand } from '../command.ts';
import { benchCommand } from './bench.ts';
import { cancelCommand } from './cancel.ts';
import { compressCommand } from './compress.ts';
import { coordinatorCommand } from './coordinator.ts';
import { demoCommand } from './demo.ts';
import { extendCommand } from './extend.ts';
import { launchCommand } from './launch.ts';
import { noteCommand } from './note.ts';
import { leaderboardCommand } from './leaderboard.ts';
import { reportCommand } from './report.ts';
import { slurmCommand } from './slurm.ts';
import { sweepsCommand } from './sweeps.ts';
import { trialsCommand } from './trials.ts';
import { workerCommand } from './worker.ts';
import { workersCommand } from './workers.ts';

export const COMMANDS: readonly AnyCommand[] = [
  demoCommand,
  coordinatorCommand,
  workerCommand,
  launchCommand,
  sweepsCommand,
  extendCommand,
  cancelCommand,
  trialsCommand,
  leaderboardCommand,
  noteCommand,
  reportCommand,
  workersCommand,
  slurmCommand,
  compressCommand,
  benchCommand,
];
