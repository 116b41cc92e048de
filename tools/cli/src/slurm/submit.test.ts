import { describe, expect, it } from 'vitest';
import { jobEnvironment } from './submit.ts';

describe('jobEnvironment', () => {
  it("passes the shell's environment on without its lmsweep secrets, the worker token as LMSWEEP_TOKEN", () => {
    const shell = { PATH: '/usr/bin', MODULEPATH: '/opt/modules', LMSWEEP_TOKEN: 'api', LMSWEEP_API_TOKEN: 'api', LMSWEEP_WORKER_TOKEN: 'w', DATABASE_URL: 'postgres://u:secret@db/x' };
    expect(jobEnvironment(shell, 'w')).toEqual({ PATH: '/usr/bin', MODULEPATH: '/opt/modules', LMSWEEP_TOKEN: 'w' });
    // No worker token: none at all, never the API token the shell held in LMSWEEP_TOKEN.
    expect(jobEnvironment(shell, undefined)).toEqual({ PATH: '/usr/bin', MODULEPATH: '/opt/modules' });
    expect(shell.LMSWEEP_TOKEN).toBe('api'); // the shell's own is untouched
  });
});
