import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sbatchScript, shellQuote, type WorkerArray } from './script.ts';

const base: WorkerArray = {
  workers: 3,
  sbatchArgs: [],
  logDir: '/shared/runs/logs',
  coordinatorUrl: 'http://head:4317',
  lmsweep: ['/opt/node/bin/node', '/shared/lmsweep/tools/cli/bin/lmsweep.js'],
  jobName: 'lmsweep-worker',
  now: new Date('2026-12-03T12:00:00Z'),
};
const directives = (s: string) => s.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8));

describe('sbatchScript', () => {
  it('an array of N workers, one task each, logs under --logs; the worker exits when idle, on one thread by default', () => {
    const s = sbatchScript(base);
    expect(s.startsWith('#!/bin/bash\n')).toBe(true);
    expect(directives(s)).toEqual(['--job-name=lmsweep-worker', '--array=0-2', '--ntasks=1', '--output="/shared/runs/logs/%x-%A_%a.out"']);
    const exec = s.split('\n').find((l) => l.startsWith('exec '))!;
    expect(exec).toBe(
      'exec /opt/node/bin/node /shared/lmsweep/tools/cli/bin/lmsweep.js worker --coordinator http://head:4317 --exit-when-idle --threads 1 --name "slurm-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}" --quiet --log json',
    );
    // No token in the file: it travels in the environment.
    expect(s).not.toMatch(/token\s*=|--token/i);
  });

  it('CPUs become the worker threads, GPUs a gres, a time limit a SIGTERM before it; extra options last', () => {
    const s = sbatchScript({ ...base, cpusPerWorker: 4, gpusPerWorker: 1, partition: 'gpu,gpu-long', account: 'lab-42', time: '1-00:00:00', sbatchArgs: ['--constraint=a100', '--qos=high'] });
    expect(directives(s)).toEqual([
      '--job-name=lmsweep-worker',
      '--array=0-2',
      '--ntasks=1',
      '--cpus-per-task=4',
      '--gres=gpu:1',
      '--partition=gpu,gpu-long',
      '--account=lab-42',
      '--time=1-00:00:00',
      '--signal=B:TERM@120',
      '--output="/shared/runs/logs/%x-%A_%a.out"',
      '--constraint=a100',
      '--qos=high',
    ]);
    expect(s).toContain(' --threads 4 ');
  });

  it('refuses what cannot go into an #SBATCH line or an sbatch option, naming the flag', () => {
    expect(() => sbatchScript({ ...base, sbatchArgs: ['--comment=a\n#SBATCH --x'] })).toThrow(/--sbatch-arg: no newlines/);
    expect(() => sbatchScript({ ...base, sbatchArgs: ['constraint=a100'] })).toThrow(/--sbatch-arg: an sbatch option/);
    expect(() => sbatchScript({ ...base, logDir: 'relative/logs' })).toThrow(/--logs: an absolute path/);
    expect(() => sbatchScript({ ...base, logDir: '/a"b' })).toThrow(/--logs: no newlines, quotes/);
    expect(() => sbatchScript({ ...base, logDir: '/logs/%u' })).toThrow(/--logs: no %/);
    // What the script sets itself (the record, the log paths, the token in the environment depend on it).
    for (const own of ['--array=0-99', '--job-name=x', '-Jx', '--output=/tmp/x', '--export=NONE', '--export', '-o/tmp/x']) {
      expect(() => sbatchScript({ ...base, sbatchArgs: [own] }), own).toThrow(/--sbatch-arg: .* is the script's own/);
    }
    expect(directives(sbatchScript({ ...base, sbatchArgs: ['--ntasks-per-core=1', '--exclusive'] })).slice(-2)).toEqual(['--ntasks-per-core=1', '--exclusive']);
  });

  it('quotes what the shell would otherwise split or expand, and bash reads it back as given', () => {
    const hostile = ["/home/a b/node", "it's", '$(touch /tmp/x)', '`id`', 'a;b', 'plain/path-1.0'];
    expect(shellQuote('plain/path-1.0')).toBe('plain/path-1.0');
    const echoed = execFileSync('bash', ['-c', `printf '%s\\n' ${hostile.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(echoed.split('\n').slice(0, -1)).toEqual(hostile);
  });
});
