import { describe, expect, it } from 'vitest';
import { parseDashboardEnv } from './env';

describe('dashboard configuration', () => {
  it('defaults to the local coordinator and drops a trailing slash', () => {
    expect(parseDashboardEnv({}).LMSWEEP_URL).toBe('http://127.0.0.1:4317');
    expect(parseDashboardEnv({ LMSWEEP_URL: 'http://coordinator:4317/' }).LMSWEEP_URL).toBe('http://coordinator:4317');
  });
  it('refuses a coordinator URL with credentials, naming the variable and never showing them', () => {
    for (const url of ['http://admin:hunter2@10.0.0.5:4317', 'https://hunter2@coordinator/']) {
      let message = '';
      try {
        parseDashboardEnv({ LMSWEEP_URL: url });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^dashboard configuration: LMSWEEP_URL: must not carry a user name or password/);
      expect(message).not.toContain('hunter2');
    }
    expect(() => parseDashboardEnv({ LMSWEEP_URL: 'ftp://coordinator' })).toThrow(/LMSWEEP_URL/);
    expect(() => parseDashboardEnv({ LMSWEEP_URL: 'http://coordinator:4317/a@b' })).not.toThrow();
  });
});
