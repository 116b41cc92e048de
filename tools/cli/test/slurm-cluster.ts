// A one-node Slurm cluster of the test's own (Debian's slurm-wlm and munge): its own munged on its
// own socket and key, slurmctld and slurmd on free ports, every file under one folder, so it
// leaves the machine's Slurm (if any) alone. Needs root (slurmd runs jobs as their user).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@lmsweep/db/testing';
import { sleep } from '../../../apps/coordinator/test/helpers.ts';

export interface SlurmCluster {
  /** The environment Slurm's commands need (SLURM_CONF), on top of the process's own. */
  env: NodeJS.ProcessEnv;
  dir: string;
  node: string;
  stop(): Promise<void>;
}

/** Why a Slurm cluster cannot be started here, or null when it can. */
export function slurmUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const bin of ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/sbatch']) if (!existsSync(bin)) return `${bin} missing (apt-get install slurm-wlm munge)`;
  if (spawnSync('id', ['munge']).status !== 0) return 'no munge user';
  return null;
}

const pidOf = (file: string) => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-slurm-'));
  chmodSync(dir, 0o755);
  const node = execFileSync('hostname', ['-s'], { encoding: 'utf8' }).trim();
  // munge: a key and a socket of ours, the daemon as the munge user (it refuses root).
  const munge = path.join(dir, 'munge');
  mkdirSync(munge);
  const key = path.join(munge, 'munge.key');
  writeFileSync(key, randomBytes(1024));
  const uid = Number(execFileSync('id', ['-u', 'munge'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'munge'], { encoding: 'utf8' }));
  chownSync(munge, uid, gid);
  chownSync(key, uid, gid);
  chmodSync(key, 0o400);
  chmodSync(munge, 0o711);
  const socket = path.join(munge, 'socket');
  const mungeArgs = [`--socket=${socket}`, `--key-file=${key}`, `--pid-file=${munge}/munged.pid`, `--log-file=${munge}/munged.log`, `--seed-file=${munge}/munged.seed`, '--force'];
  execFileSync('su', ['-s', '/bin/sh', 'munge', '-c', ['/usr/sbin/munged', ...mungeArgs].join(' ')]);
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'slurm.conf');
  for (const d of ['state', 'spool']) mkdirSync(path.join(dir, d));
  writeFileSync(
    conf,
    [
      'ClusterName=lmsweeptest',
      `SlurmctldHost=${node}`,
      'SlurmUser=root',
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd.log`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'ReturnToService=2',
      'MpiDefault=none',
      // A cancelled task has this long between SIGTERM and SIGKILL (Slurm's default is 30 s).
      'KillWait=10',
      `NodeName=${node} CPUs=${os.cpus().length} RealMemory=4096 State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  execFileSync('/usr/sbin/slurmctld', ['-f', conf], { env });
  execFileSync('/usr/sbin/slurmd', ['-f', conf], { env });
  const cluster: SlurmCluster = {
    env,
    dir,
    node,
    async stop() {
      spawnSync('scancel', ['--me'], { env });
      await sleep(500);
      for (const f of [`${dir}/slurmd.pid`, `${dir}/slurmctld.pid`, `${munge}/munged.pid`]) {
        const pid = pidOf(f);
        if (!Number.isInteger(pid)) continue;
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          continue;
        }
        for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // The node reports in within seconds.
  for (let i = 0; ; i++) {
    const state = spawnSync('sinfo', ['--noheader', '--format=%T'], { env, encoding: 'utf8' }).stdout.trim();
    if (state === 'idle') return cluster;
    if (i > 150) {
      const log = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').slice(-2000) : '(none)');
      const why = `the Slurm node did not come up (sinfo: "${state}")\nslurmctld: ${log(`${dir}/slurmctld.log`)}\nslurmd: ${log(`${dir}/slurmd.log`)}`;
      await cluster.stop();
      throw new Error(why);
    }
    await sleep(200);
  }
}
