// `lmsweep extend` as a user runs it, against a real coordinator (with an API token): seeds and
// grid values added, refusals naming the field or the flag; and `lmsweep leaderboard` marking the
// intervals wider than a sweep's target.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrialResult } from '@lmsweep/protocol';
import { startCoordinator, type Coordinator } from '@lmsweep/coordinator';
import { apiClient } from '../src/client.ts';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
const exec = promisify(execFile);
const TOKEN = 'extend-token';
let c: Coordinator;

/** Runs the CLI; resolves with its exit code and output whatever the code. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args, '--coordinator', c.url], { env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent', ...env } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const result = (params: number, validPpl: number): TrialResult => ({ params, paramsByLayer: { all: params }, validPpl, testPpl: validPpl + 1, steps: 1, tokens: 1, seconds: 0, tokensPerSecond: 1, vocabSize: 300, backend: 'test' });

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', apiToken: TOKEN });
});
afterAll(async () => {
  await c?.close();
});

describe('lmsweep extend', () => {
  it('adds seeds and grid values to a sweep, with the API token; refuses what it cannot do, naming the field or flag', async () => {
    const api = apiClient(c.url, TOKEN);
    const sweep = await api.sweeps.create.mutate({ spec: { name: 'cli-ext', dataset: { name: 'ptb', vocabSize: 300 }, grid: { 'model.hidden': [8, 16] }, seeds: 1 } });
    const env = { LMSWEEP_TOKEN: TOKEN };

    const seeds = await cli(['extend', sweep.id, '--seeds', '2'], env);
    expect(seeds).toMatchObject({ code: 0, stdout: `${sweep.id}: added 4 trials: 2 more seeds for every configuration (2)\n` });
    const grid = await cli(['extend', sweep.id, '--grid', 'model.hidden=24,32', '--json'], env);
    expect(grid.code).toBe(0);
    expect(JSON.parse(grid.stdout)).toEqual({ id: sweep.id, trials: 6, summary: '6 trials: model.hidden += 24, 32', reopened: false });
    const one = (await api.leaderboard.list.query({ sweepId: sweep.id })).length; // nothing finished yet
    expect(one).toBe(0);
    const { items } = await api.trials.list.query({ sweepId: sweep.id });
    const key24 = items.find((t) => (t.config as { model: { hidden: number } }).model.hidden === 24)!.configKey;
    const named = await cli(['extend', sweep.id, '--seeds', '1', '--config', key24], env);
    expect(named.stdout).toBe(`${sweep.id}: added 1 trials: 1 more seed for 1 configuration\n`);
    const s = await api.sweeps.get.query({ id: sweep.id });
    expect(s.counts.total).toBe(2 + 4 + 6 + 1);
    expect((s.extensions as { by: string }[]).every((x) => /@/.test(x.by))).toBe(true); // user@host

    // refusals: the API's name the field (exit 1), the command line's the flag (exit 2)
    const sampled = await cli(['extend', sweep.id, '--trials', '5'], env);
    expect([sampled.code, sampled.stderr]).toEqual([1, expect.stringContaining('trials: this sweep is a grid')]);
    // A sampled sweep takes more configurations (its growth step samples them), and no grid values.
    const search = await api.sweeps.create.mutate({ spec: { name: 'cli-search', dataset: { name: 'ptb', vocabSize: 300 }, search: { sampler: 'random', trials: 3, parallel: 1 }, space: { 'model.hidden': { int: [8, 64], step: 8 } }, seeds: 1 } });
    const more = await cli(['extend', search.id, '--trials', '2'], env);
    expect(more).toMatchObject({ code: 0, stdout: `${search.id}: added 2 more configurations for the search (5 in all; sampled as slots free, 1 at once)\n` });
    expect(((await api.sweeps.get.query({ id: search.id })).spec as { search: { trials: number } }).search.trials).toBe(5);
    const noGrid = await cli(['extend', search.id, '--grid', 'model.hidden=72'], env);
    expect([noGrid.code, noGrid.stderr]).toEqual([1, expect.stringContaining('grid: this sweep is a sampled search')]);
    await api.sweeps.cancel.mutate({ id: search.id });
    const dup = await cli(['extend', sweep.id, '--grid', 'model.hidden=16'], env);
    expect([dup.code, dup.stderr]).toEqual([1, expect.stringContaining('grid.model.hidden: 16 is already in the grid (8, 16, 24, 32)')]);
    const unknown = await cli(['extend', sweep.id, '--seeds', '1', '--config', 'nokey'], env);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('configs: "nokey" is not a configuration of this sweep\'s grid')]);
    const noToken = await cli(['extend', sweep.id, '--seeds', '1']);
    expect([noToken.code, noToken.stderr]).toEqual([1, expect.stringContaining('needs the API token')]);
    const badGrid = await cli(['extend', sweep.id, '--grid', 'model.hidden'], env);
    expect([badGrid.code, badGrid.stderr]).toEqual([2, expect.stringContaining('--grid must be PATH=V1,V2')]);
    const nothing = await cli(['extend', sweep.id], env);
    expect([nothing.code, nothing.stderr]).toEqual([2, expect.stringContaining('nothing to add')]);
    const missing = await cli(['extend', 'no-such-sweep', '--seeds', '1'], env);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('sweep no-such-sweep not found')]);
    expect((await api.sweeps.get.query({ id: sweep.id })).counts.total).toBe(13);
    await api.sweeps.cancel.mutate({ id: sweep.id });
  });

  it('lmsweep leaderboard marks the intervals wider than the sweep\'s target', async () => {
    const api = apiClient(c.url, TOKEN);
    // max = min: no seeds are added, the intervals stay as the two seeds give them
    const sweep = await api.sweeps.create.mutate({ spec: { name: 'cli-ci', dataset: { name: 'ptb', vocabSize: 300 }, grid: { 'model.hidden': [8, 16] }, seeds: { min: 2, max: 2, ciHalfWidth: 1.5 } } });
    const ppl: Record<number, number[]> = { 8: [150, 150.1], 16: [120, 140] };
    for (;;) {
      const t = await c.store.claim('w', 60_000);
      if (!t) break;
      const hidden = (t.config as { model: { hidden: number } }).model.hidden;
      expect(await c.store.complete(t.id, 'w', t.attempt, result(hidden * 100, ppl[hidden]![t.seed]!))).toBe('ok');
    }
    const lb = await cli(['leaderboard', '--sweep', sweep.id]);
    expect(lb.code).toBe(0);
    expect(lb.stdout).toMatch(/130\.0 ± 127\.\d~/);
    expect(lb.stdout).toMatch(/150\.1 ± 0\.6 /);
    expect(lb.stdout.trim().split('\n').at(-1)).toBe("~ 1 interval is wider than the sweep's target (±1.5): more seeds would narrow it");
    const json = (await cli(['leaderboard', '--sweep', sweep.id, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json.map((r) => [r.params, r.ciTight, r.ciTarget])).toEqual([[1600, false, 1.5], [800, true, 1.5]]);
  });
});
