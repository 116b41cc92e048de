// `lmsweep note` as a user runs it, against a real coordinator with an API token: a sweep's and a
// trial's note written (from the command line and from a file) and printed, refused without the
// token, and bad arguments refused naming them.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '@lmsweep/coordinator';
import { apiClient } from '../src/client.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
const exec = promisify(execFile);
const TOKEN = 'note-token';
let c: Coordinator;
let dir = '';

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args, '--coordinator', c.url], { env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent', LMSWEEP_TOKEN: '', ...env } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', apiToken: TOKEN });
  dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-note-'));
});
afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lmsweep note', () => {
  it('writes and prints the notes of a sweep and a trial; refused without the token; bad arguments named', async () => {
    const api = apiClient(c.url, TOKEN);
    const sweep = await api.sweeps.create.mutate({ spec: { name: 'cli-note', dataset: { name: 'ptb', vocabSize: 300 } } });
    const env = { LMSWEEP_TOKEN: TOKEN };
    expect(await cli(['note', sweep.id])).toMatchObject({ code: 0, stdout: `(no note on sweep ${sweep.id})\n` });
    expect((await cli(['note', sweep.id, '--set', '# Plan\nlr **0.1**'], env)).code).toBe(0);
    const shown = await cli(['note', sweep.id]);
    expect(shown.stdout).toMatch(/^# Plan\nlr \*\*0\.1\*\*\n\n— written \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$/);
    expect((await api.sweeps.get.query({ id: sweep.id })).note).toBe('# Plan\nlr **0.1**');

    const [t] = (await api.trials.list.query({ sweepId: sweep.id })).items;
    const file = path.join(dir, 'note.md');
    writeFileSync(file, 'seed 0 *diverged*\n');
    expect((await cli(['note', t!.id, '--file', file, '--json'], env)).stdout).toMatch(/^\{"id":"t_[^"]+","note":"seed 0 \*diverged\*\\n","noteUpdatedAt":"\d{4}-/);
    expect(JSON.parse((await cli(['note', t!.id, '--json'])).stdout).note).toBe('seed 0 *diverged*\n');
    expect((await cli(['note', t!.id, '--clear'], env)).stdout).toBe(`(no note on trial ${t!.id})\n`);

    const anonymous = await cli(['note', sweep.id, '--set', 'x']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/token|sign|unauthori/i);
    expect((await api.sweeps.get.query({ id: sweep.id })).note).toBe('# Plan\nlr **0.1**');
    const bad = await cli(['note', 'x_1']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('ID: "x_1" is neither a sweep id')]);
    const both = await cli(['note', sweep.id, '--set', 'a', '--clear'], env);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('--set, --file and --clear: give one')]);
  });
});
