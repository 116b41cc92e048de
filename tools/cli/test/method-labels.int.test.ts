// Methods and configurations as a person reads them, through the real `lmsweep` bin against a
// real coordinator: the trials table says "dense + fine-tune" (its --json keeps the method's
// name), and one sweep's leaderboard names its grid keys, as the dashboard's labels do
// (@lmsweep/protocol/labels). Trials are finished through the store, not trained.
import { execFile } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '@lmsweep/coordinator';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { putArtifact } from '@lmsweep/db/testing';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
const SPEC = `name: labels
dataset: { name: ptb, vocabSize: 2000 }
model: { embedding: 128, hidden: 128, layers: 1 }
budget: { maxSteps: 300 }
compress: { target: both, rate: 4, finetune: { maxSteps: 100 }, control: true }
grid: { method: [svd], model.hidden: [128] }
seeds: 1
`;

let c: Coordinator;
let sweepId = '';

function lmsweep(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--coordinator', c.url], { timeout: 60_000, env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent' } }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', log: pino({ level: 'silent' }) });
  const spec = parseSweepSpec(SPEC);
  sweepId = (await c.store.createSweep({ name: spec.name, spec, specText: SPEC, plans: expandSweep(spec) })).id;
  // The baseline first (with the checkpoint its compression trial and control start from), then those two.
  for (let round = 0; round < 3; round++) {
    const claimed = (await c.store.claimMany(['w1', 'w2'], 60_000)).filter((t) => t !== null);
    for (const [i, t] of claimed.entries()) await putArtifact(c.store, t.id, `w${i + 1}`, t.attempt, 'checkpoint', new Uint8Array([1]));
    const params = (m: string) => (m === 'svd' ? 200_000 : 640_000);
    const outcomes = await c.store.completeMany(
      claimed.map((t, i) => ({
        trialId: t.id,
        workerId: `w${i + 1}`,
        attempt: t.attempt,
        result: { params: params(t.method), paramsByLayer: { all: params(t.method) }, validPpl: 150 + i, testPpl: 145, steps: 1, tokens: 1, seconds: 1, tokensPerSecond: 1, vocabSize: 2000, backend: 'test' },
      })),
    );
    expect(outcomes.every((o) => o === 'ok')).toBe(true);
  }
  const { items } = await c.store.listTrials({ sweepId });
  expect(items.map((t) => [t.method, t.status]).sort()).toEqual([['dense', 'succeeded'], ['dense-finetune', 'succeeded'], ['svd', 'succeeded']]);
}, 120_000);

afterAll(async () => {
  await c?.close();
});

describe('methods and configurations, as the CLI prints them', () => {
  it('the trials table names the control "dense + fine-tune"; --json keeps its method name', { timeout: 60_000 }, async () => {
    const table = await lmsweep(['trials', '--sweep', sweepId]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('dense + fine-tune');
    expect(table.stdout).not.toContain('dense-finetune');
    const json = await lmsweep(['trials', '--sweep', sweepId, '--json']);
    expect(json.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { method: string }).method).sort()).toEqual(['dense', 'dense-finetune', 'svd']);
  });

  it("one sweep's leaderboard names its grid keys wherever set, even with one value", { timeout: 60_000 }, async () => {
    const lb = await lmsweep(['leaderboard', '--sweep', sweepId]);
    expect(lb.code, lb.stderr).toBe(0);
    const labels = lb.stdout.trim().split('\n').slice(2).map((l) => /^.\s+(.*?)\s{2,}\d/.exec(l)?.[1]);
    expect(labels.sort(), lb.stdout).toEqual(['dense + fine-tune hidden 128', 'dense hidden 128', 'svd rate 4, hidden 128']);
  });
});
