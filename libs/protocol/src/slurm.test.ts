import { describe, expect, it } from 'vitest';
import { HelloMsg } from './wire.ts';
import { slurmJobOf } from './slurm.ts';

describe('slurmJobOf', () => {
  it('an array task is ARRAYJOB_TASK, a plain job its id, outside Slurm nothing', () => {
    expect(slurmJobOf({ SLURM_JOB_ID: '1236', SLURM_ARRAY_JOB_ID: '1234', SLURM_ARRAY_TASK_ID: '2' })).toBe('1234_2');
    expect(slurmJobOf({ SLURM_JOB_ID: '1235' })).toBe('1235');
    expect(slurmJobOf({})).toBeUndefined();
  });
  it('values that are not Slurm ids are not reported', () => {
    expect(slurmJobOf({ SLURM_JOB_ID: '12; rm -rf /' })).toBeUndefined();
    expect(slurmJobOf({ SLURM_ARRAY_JOB_ID: '1234', SLURM_ARRAY_TASK_ID: 'x' })).toBeUndefined();
  });
  it("a worker's hello carries it, and refuses anything else there", () => {
    const hello = { type: 'hello', msgId: 'h', protocol: 1, name: 'n', host: 'h', backend: 'wasm', device: 'cpu', version: '0.1.0' };
    expect(HelloMsg.parse({ ...hello, slurmJob: '1234_0' }).slurmJob).toBe('1234_0');
    for (const bad of ['', '1234_', 'abc', '1'.repeat(13), '1234_0\n']) expect(HelloMsg.safeParse({ ...hello, slurmJob: bad }).success, bad).toBe(false);
  });
});
