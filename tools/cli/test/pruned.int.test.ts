// A pruned sweep as the CLI shows it, through the real `lmsweep` bin against a real coordinator
// (PGlite in memory): its trials stopped, paused and resumed through the store's own pruning
// writes (@lmsweep/db/testing). `trials --status paused|pruned`, the table saying where each
// stopped, `--json` rows with steps, rung, promotions and verdict for every trial, the counts of
// `sweeps`, `leaderboard`'s "stopped early" table under the ranking (and in its --json), and
// `report`'s.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type Coordinator } from '@lmsweep/coordinator';
import type { ClaimedTrial } from '@lmsweep/db';
import { pauseTrialAt, promoteTrial, stopTrialAt } from '@lmsweep/db/testing';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
// No pruner in the spec: the verdicts are the test's own, and the coordinator's pruning step leaves the sweep alone.
const SPEC = {
  name: 'cli-pruned',
  dataset: { name: 'ptb', vocabSize: 300 },
  model: { embedding: 8, hidden: 8, layers: 1 },
  budget: { maxSteps: 900, evalEvery: 100 },
  grid: { 'training.lr': [0.01, 0.1, 0.5] },
  seeds: 2,
};

let c: Coordinator;
let sweepId = '';
const trial = new Map<string, ClaimedTrial & { worker: string }>();
const at = (lr: number, seed: number) => trial.get(`${lr}/${seed}`)!;

function lmsweep(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--coordinator', c.url], { timeout: 60_000, env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent' } }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}
const jsonLines = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', log: pino({ level: 'silent' }) });
  const store = c.store;
  const spec = parseSweepSpec(SPEC);
  sweepId = (await store.createSweep({ name: spec.name, spec, specText: JSON.stringify(SPEC), plans: expandSweep(spec) })).id;
  const workers = Array.from({ length: 6 }, (_, i) => `w${i}`);
  (await store.claimMany(workers, 60_000)).forEach((t, i) => t && trial.set(`${(t.config as { training: { lr: number } }).training.lr}/${t.seed}`, { ...t, worker: workers[i]! }));
  expect(trial.size).toBe(6);
  const w = (lr: number, seed: number) => ({ workerId: at(lr, seed).worker, attempt: at(lr, seed).attempt });
  const result = (validPpl: number) => ({ params: 1000, paramsByLayer: { all: 1000 }, validPpl, testPpl: validPpl + 1, steps: 900, tokens: 1, seconds: 1, tokensPerSecond: 1, vocabSize: 300, backend: 'test' });
  for (const seed of [0, 1]) expect(await store.complete(at(0.01, seed).id, at(0.01, seed).worker, 1, result(120 + seed))).toBe('ok');
  await stopTrialAt(store, at(0.1, 0).id, { ...w(0.1, 0), step: 300, value: 180, rung: 1, threshold: 150, reason: 'rung 1: 180 is not in the best third (150)' });
  await stopTrialAt(store, at(0.1, 1).id, { ...w(0.1, 1), step: 100, value: 250, rung: 0, threshold: 240, reason: 'rung 0: 250 is not in the best third (240)' });
  await pauseTrialAt(store, at(0.5, 0).id, { ...w(0.5, 0), step: 300, value: 170, rung: 1 });
  await promoteTrial(store, sweepId, at(0.5, 0).id);
  const resumed = (await store.claim('w-resume', 60_000))!;
  expect(resumed.id).toBe(at(0.5, 0).id);
  await pauseTrialAt(store, resumed.id, { workerId: 'w-resume', attempt: resumed.attempt, step: 600, value: 150, rung: 2, reason: 'rung 2: waits for a promotion' });
  await stopTrialAt(store, at(0.5, 1).id, { ...w(0.5, 1), step: 100, value: 260, rung: 0 });
}, 120_000);

afterAll(async () => {
  await c?.close();
});

describe('a pruned sweep, as the CLI prints it', () => {
  it('trials --status pruned / paused: the table says where each stopped, and why', { timeout: 60_000 }, async () => {
    const [pruned, paused] = await Promise.all([lmsweep(['trials', '--sweep', sweepId, '--status', 'pruned']), lmsweep(['trials', '--sweep', sweepId, '--status', 'paused'])]);
    expect(pruned.code, pruned.stderr).toBe(0);
    const rows = pruned.stdout.split('\n\n')[0]!.split('\n').slice(2);
    expect(rows.map((l) => /(pruned at step \d+ \([^)]*\))/.exec(l)?.[1])).toEqual(['pruned at step 300 (rung 1)', 'pruned at step 100 (rung 0)', 'pruned at step 100 (rung 0)']);
    expect(pruned.stdout).toContain(`stopped early:\n${at(0.1, 0).id}  rung 1: 180 is not in the best third (150)`);
    // The value it stopped with, in the valid ppl column.
    expect(rows[0]).toMatch(/180\.0\s+-$/);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain('paused at step 600 (rung 2, resumed 1×)');
    expect(paused.stdout).toContain(`${at(0.5, 0).id}  rung 2: waits for a promotion`);
    expect(paused.stdout).not.toContain('pruned');
  });

  it('refuses a status it does not know, naming the flag and the choices', { timeout: 60_000 }, async () => {
    const bad = await lmsweep(['trials', '--status', 'stopped']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--status must be one of queued, running, paused, succeeded, pruned, failed, cancelled; got "stopped"');
  });

  it('trials --json: every row carries steps, rung, promotions and verdict', { timeout: 60_000 }, async () => {
    const json = await lmsweep(['trials', '--sweep', sweepId, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const lines = jsonLines(json.stdout);
    expect(lines).toHaveLength(6);
    for (const l of lines) for (const k of ['steps', 'rung', 'promotions', 'verdict']) expect(l, `${String(l.status)} ${String(l.id)}`).toHaveProperty(k);
    const byId = new Map(lines.map((l) => [l.id, l]));
    expect(byId.get(at(0.01, 0).id)).toMatchObject({ status: 'succeeded', steps: 900, rung: null, promotions: 0, verdict: null });
    expect(byId.get(at(0.1, 0).id)).toMatchObject({ status: 'pruned', steps: 300, rung: 1, promotions: 0, validPpl: 180, verdict: { action: 'stop', step: 300, rung: 1, value: 180, threshold: 150 } });
    expect(byId.get(at(0.5, 0).id)).toMatchObject({ status: 'paused', steps: 600, rung: 2, promotions: 1, validPpl: 150, verdict: { action: 'pause', step: 600 } });
  });

  it('sweeps counts paused and pruned trials', { timeout: 60_000 }, async () => {
    const [table, json] = await Promise.all([lmsweep(['sweeps']), lmsweep(['sweeps', '--json'])]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('paused 1, succeeded 2, pruned 3 of 6');
    expect(jsonLines(json.stdout).find((s) => s.id === sweepId)!.counts).toMatchObject({ paused: 1, pruned: 3, succeeded: 2, total: 6 });
  });

  it('leaderboard: the ranking, then a "stopped early" table; --json adds the stopped configurations marked stoppedEarly', { timeout: 60_000 }, async () => {
    const lb = await lmsweep(['leaderboard', '--sweep', sweepId]);
    expect(lb.code, lb.stderr).toBe(0);
    const [ranking, below] = lb.stdout.split('\nstopped early');
    expect(ranking).toMatch(/★ {2}dense lr 0\.01\s+1\.0k\s+-\s+120\.5 ± 6\.4/);
    expect(below).toBeDefined();
    const lines = below!.trim().split('\n');
    expect(lines[0]).toBe('(2 configurations: pruned or paused, no seed finished; not ranked)');
    expect(lines[1]).toMatch(/^configuration\s+stopped\s+rung\s+last valid ppl\s+n$/);
    expect(lines.slice(3).map((l) => l.replace(/\s{2,}/g, ' | '))).toEqual(['dense lr 0.5 | paused at step 600 | 2 | 150.0 | 2', 'dense lr 0.1 | stopped at step 300 | 1 | 180.0 | 2']);
    for (const l of lb.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(100);

    const json = jsonLines((await lmsweep(['leaderboard', '--sweep', sweepId, '--json'])).stdout);
    expect(json.map((r) => [r.stoppedEarly ?? false, r.steps ?? null, r.status ?? 'ranked'])).toEqual([
      [false, null, 'ranked'],
      [true, 600, 'paused'],
      [true, 300, 'pruned'],
    ]);
    expect(json[2]).toMatchObject({ rung: 1, validPpl: 180, seeds: [0, 1], trialIds: [at(0.1, 0).id, at(0.1, 1).id] });
  });

  it('report: a pruned sweep reports its ranked configuration and, apart, the configurations stopped early with their steps and rungs', { timeout: 60_000 }, async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-pruned-report-'));
    try {
      const r = await lmsweep(['report', sweepId, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      const md = readFileSync(path.join(out, 'report.md'), 'utf8');
      expect(md).toMatch(/\| 1 \| ★ dense lr 0\.01 \| 1,000 \|/);
      const stopped = md.split('## Stopped early')[1]!.split('\n## ')[0]!;
      const rows = stopped.split('\n').filter((l) => l.startsWith('| dense'));
      expect(rows.map((l) => l.split('|').map((x) => x.trim()).slice(1, 6))).toEqual([
        ['dense lr 0.5', '2', '205.00', '100, 600', '2'],
        ['dense lr 0.1', '2', '215.00', '100, 300', '1'],
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

