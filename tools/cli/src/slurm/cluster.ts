// Slurm's own commands, run where `lmsweep slurm` runs (a login node): sbatch, squeue, scancel.
// Each is found on PATH and reads its cluster from the usual place (SLURM_CONF or /etc/slurm).
import { spawn } from 'node:child_process';

/** A Slurm command that could not run or answered with an error: the message carries its stderr. */
export class SlurmError extends Error {
  override name = 'SlurmError';
  /** The command is not on PATH (not a host of the cluster). */
  readonly notFound: boolean;
  constructor(message: string, notFound = false) {
    super(message);
    this.notFound = notFound;
  }
}

function run(cmd: string, args: readonly string[], stdin?: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    // stdin only for what reads it (sbatch's script): a command that exits without reading a pipe would fail its write (EPIPE).
    const p = spawn(cmd, args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let out = '';
    let err = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new SlurmError(`${cmd} not found on PATH: run this on a host of the Slurm cluster (a login node)`, true) : new SlurmError(`${cmd}: ${e.message}`)),
    );
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new SlurmError(`${cmd} ${args.join(' ')} failed (exit ${code}): ${err.trim() || out.trim()}`))));
    if (p.stdin) {
      // sbatch refusing the script early (a bad option) is answered on its exit code and stderr, not as a crash here.
      p.stdin.on('error', () => undefined);
      p.stdin.end(stdin);
    }
  });
}

/** Submits a batch script (on stdin) with this environment; Slurm's job id. */
export async function sbatch(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  const out = (await run('sbatch', ['--parsable'], script, env)).trim();
  // --parsable: "ID" or "ID;CLUSTER".
  const id = /^([0-9]+)(;.*)?$/.exec(out)?.[1];
  if (!id) throw new SlurmError(`sbatch answered ${JSON.stringify(out)}, not a job id`);
  return id;
}

export interface QueuedTask {
  /** "1234_0" for an array task, "1235" for a plain job. */
  id: string;
  state: string;
  /** The node it runs on, or why it waits. */
  where: string;
}

/** This user's jobs in Slurm's queue, one row per array task (a SlurmError with notFound where squeue is not on PATH). */
export async function squeue(): Promise<QueuedTask[]> {
  const out = await run('squeue', ['--noheader', '--array', '--me', '--format=%i|%T|%N|%r']);
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [id = '', state = '', node = '', reason = ''] = l.trim().split('|');
      return { id, state, where: node || (reason && reason !== 'None' ? `(${reason})` : '') };
    });
}

/** Cancels a job, an array or one array task (1234, 1234_0): Slurm sends SIGTERM, then SIGKILL after its KillWait. */
export async function scancel(id: string): Promise<void> {
  await run('scancel', [id]);
}
