// Results that cannot be real, against a real coordinator: a perplexity below 1 is refused naming
// the field; a seed far below every other seed of its configuration is stored but flagged, shown
// by `lmsweep trials --json` and in the leaderboard's data, and kept out of the ranking.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@lmsweep/protocol';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { apiClient } from '../../../tools/cli/src/client.ts';
import { ProtocolClient } from './ws-client.ts';
import { launch, result } from './helpers.ts';

const BIN = path.resolve(import.meta.dirname, '../../../tools/cli/bin/lmsweep.js');
let c: Coordinator;
let w: ProtocolClient;
beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', leaseMs: 60_000 });
  w = await ProtocolClient.connect(c.url);
  await w.request({ type: 'hello', protocol: PROTOCOL_VERSION, name: 'reporter', host: 'h', backend: 'none', device: 'test', version: 'test' });
});
afterAll(async () => {
  w?.close();
  await c?.close();
});

async function claim() {
  const a = await w.request({ type: 'claim' });
  if (a.type !== 'assign') throw new Error(`no trial: ${JSON.stringify(a)}`);
  return a.trial;
}

describe('impossible results', () => {
  it.each([
    ['validPpl', { ...result(50), validPpl: 0.97 }, 'result.validPpl'],
    ['testPpl', { ...result(50), testPpl: 0.5 }, 'result.testPpl'],
    [
      'a compression report’s perplexity',
      { ...result(50), compression: { baselineTrialId: 't', baselineParams: 10, baselineValidPpl: 0.2, matrices: {}, validPplBefore: 60, testPplBefore: 61, finetuneSteps: 1 } },
      'result.compression.baselineValidPpl',
    ],
  ])('a perplexity below 1 (%s) is refused as BAD_MESSAGE naming the field; nothing is stored', async (_what, bad, field) => {
    await launch(c.store, `name: below-one\ndataset: { name: ptb, vocabSize: 300 }`);
    const t = await claim();
    const r = await w.request({ type: 'complete', trialId: t.id, attempt: t.attempt, result: bad });
    expect(r).toMatchObject({ type: 'error', code: 'BAD_MESSAGE', message: expect.stringContaining(`${field}: a perplexity is at least 1`) });
    expect(await c.store.getTrial(t.id)).toMatchObject({ status: 'running', validPpl: null, result: null });
    // A perplexity of exactly 1 is possible (a loss of 0): accepted.
    expect(await w.request({ type: 'complete', trialId: t.id, attempt: t.attempt, result: result(1) })).toMatchObject({ type: 'ack' });
  });

  it('a seed far below every other seed of its configuration is stored but flagged, in trials --json and the leaderboard data', async () => {
    const sweep = await launch(c.store, `name: fake\ndataset: { name: ptb, vocabSize: 300 }\nseeds: 3`);
    const ppl = [100, 1.0001, 104]; // seed 1 reports a result no model of this configuration gets
    for (const v of ppl) {
      const t = await claim();
      expect(await w.request({ type: 'complete', trialId: t.id, attempt: t.attempt, result: { ...result(v), testPpl: v * 1.05 } })).toMatchObject({ type: 'ack' });
    }
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'trials', '--sweep', sweep.id, '--json', '--coordinator', c.url]);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { seed: number; status: string; validPpl: number; flag: string | null });
    expect(lines.map((l) => [l.seed, l.status, l.validPpl])).toEqual([[0, 'succeeded', 100], [1, 'succeeded', 1.0001], [2, 'succeeded', 104]]);
    expect(lines[0]!.flag).toBeNull();
    expect(lines[1]!.flag).toMatch(/^validPpl 1\.0001 is under 0\.5× every other seed of its configuration \(the lowest of them: 100\)/);
    expect(lines[2]!.flag).toBeNull();

    const [row] = await apiClient(c.url).leaderboard.list.query({ sweepId: sweep.id });
    expect(row).toMatchObject({ seeds: [0, 2], validPpl: { mean: 102 }, flagged: [{ seed: 1, validPpl: 1.0001, flag: expect.stringMatching(/under 0\.5×/) }] });
    const page = await apiClient(c.url).leaderboard.page.query({ sweepId: sweep.id });
    expect(page.entries[0]!.flagged).toHaveLength(1);
  });
});
