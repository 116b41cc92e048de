// `lmsweep bench prune` in replay mode on a tiny recorded curve set: the real bin prints the
// table and the goal line; --json gives one object per pruner and the goal's verdict.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCurves } from '@lmsweep/sweep';
import { UsageError } from '../options.ts';
import { benchPrune, DEFAULT_CURVES, readCurves } from './prune.ts';
import { REAL_SPACE, recordedSubset } from './prune-real.ts';
import { recordCurvesTo } from './prune-record.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/lmsweep.js');
let dir = '';
let file = '';

/** 6 configurations × 2 seeds, a + b/√s every 10 steps to 100: configuration c5 is the best at the end, c0 the best early. */
function tiny(): RecordedCurves {
  const trials: RecordedCurves['trials'] = [];
  for (let c = 0; c < 6; c++) {
    for (const seed of [0, 1]) {
      const a = 100 - 5 * c + seed;
      const b = 100 + 60 * c;
      trials.push({ configKey: `k${c}`, label: `c=${c}`, seed, seconds: 5 + c, valid: Array.from({ length: 10 }, (_, i) => Math.round((a + b / Math.sqrt((i + 1) * 10)) * 100) / 100) });
    }
  }
  return { about: 'a tiny test recording', spec: '', evalEvery: 10, maxSteps: 100, tokensPerStep: 400, seconds: 0, trials };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-bench-prune-'));
  file = path.join(dir, 'curves.json');
  writeFileSync(file, JSON.stringify(tiny()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench prune (replay)', () => {
  it('--json: one row per pruner, none at 100% of the tokens, then the goal', async () => {
    const lines: string[] = [];
    await benchPrune({ json: true, out: (l) => lines.push(l), args: ['--curves', file, '--repeats', '5', '--workers', '3', '--min-steps', '10', '--reduction', '3'] });
    expect(lines).toHaveLength(5);
    const rows = lines.slice(0, 4).map((l) => JSON.parse(l));
    expect(rows.map((r) => r.pruner)).toEqual(['none', 'median', 'asha', 'asha+promotion']);
    for (const r of rows) {
      expect(r).toMatchObject({ bench: 'prune', mode: 'replay', workers: 3, repeats: 5 });
      for (const k of ['tokens_fraction', 'tokens_max', 'wall_fraction', 'full_best_ppl', 'found_ppl', 'gap', 'gap_max', 'within_1pct', 'goal_runs']) expect(typeof r[k]).toBe('number');
      expect(r.tokens_ci).toHaveLength(2);
      expect(r.tokens_fraction).toBeLessThanOrEqual(1);
      expect(r.gap).toBeGreaterThanOrEqual(0);
    }
    expect(rows[0]).toMatchObject({ tokens_fraction: 1, tokens_max: 1, wall_fraction: 1, gap: 0, within_1pct: 5, goal_runs: 0, settings: 'every trial to the end' });
    expect(rows[3].settings).toBe('rungs at 10, 30, 90 steps, η 3');
    expect(rows[3].pauses).toBeGreaterThan(0);
    expect(rows[3].tokens_fraction).toBeLessThan(1);
    expect(JSON.parse(lines[4]!)).toEqual({ bench: 'prune', mode: 'replay', goal: { gap: 0.01, tokens: 0.35, repetitions: 0.95 }, met: expect.any(Boolean) });
  });

  it('a first rung off the evaluations is refused naming --min-steps', async () => {
    await expect(benchPrune({ json: true, out: () => {}, args: ['--curves', file, '--min-steps', '15'] })).rejects.toThrow(UsageError);
    await expect(benchPrune({ json: true, out: () => {}, args: ['--curves', file, '--min-steps', '15'] })).rejects.toThrow(/--min-steps: minSteps 15 is not a multiple of budget.evalEvery 10/);
    await expect(benchPrune({ json: true, out: () => {}, args: ['--curves', path.join(dir, 'missing.json')] })).rejects.toThrow(/--curves .*missing\.json/);
  });

  it('the real bin prints the table with the full run beside, and the goal line', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'bench', 'prune', '--curves', file, '--repeats', '4', '--min-steps', '10', '--reduction', '3'], { timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Replay of curves\.json: 6 configurations × 2 seeds, 100 steps of 400 tokens, validation every 10 steps; 4 asynchronous workers, 4 random queue orders\.$/);
    expect(lines[1]).toContain('Reference: the full run (none), 480000 training tokens');
    expect(lines[2]).toMatch(/^pruner\s+settings\s+tokens\s+tokens max\s+wall time\s+found ppl\s+gap\s+gap max\s+within 1%\s+pauses\s+promotions$/);
    expect(lines[4]).toMatch(/^none\s+every trial to the end\s+100\.0% \[100\.0%, 100\.0%\]\s+100\.0%/);
    for (const [i, name] of ['median', 'asha', 'asha+promotion'].entries()) expect(lines[5 + i]).toMatch(new RegExp(`^${name.replace('+', '\\+')}\\s`));
    expect(lines[8]).toMatch(/^goal: asha\+promotion within 1% .*: (met|NOT met)$/);
  }, 90_000);

  it('--record\'s recorder: every trial of a (tiny) space trained to its budget, one value per evaluation, a file the replay reads', async () => {
    const out = path.join(dir, 'recorded.json');
    const lines: string[] = [];
    const spec = 'name: tiny\ndataset: { name: ptb, vocabSize: 200 }\nmodel: { embedding: 8, hidden: 8, layers: 1 }\ntraining: { batchSize: 4, unroll: 5, optimizer: adam }\nbudget: { maxSteps: 30, evalEvery: 10, evalTokens: 400 }\ngrid: { training.lr: [0.001, 0.01] }\nseeds: 2\n';
    const c = await recordCurvesTo(out, { spec, log: (l) => lines.push(l) });
    expect(c).toMatchObject({ evalEvery: 10, maxSteps: 30, tokensPerStep: 20, spec });
    expect(c.trials.map((t) => [t.label, t.seed])).toEqual([['lr=0.001', 0], ['lr=0.001', 1], ['lr=0.01', 0], ['lr=0.01', 1]]);
    for (const t of c.trials) {
      expect(t.valid).toHaveLength(3);
      expect(t.valid.every((v) => v > 1 && v < 1000)).toBe(true);
      expect(t.seconds).toBeGreaterThan(0);
    }
    expect(c.about).toMatch(/^Validation curves of 4 trials \(2 configurations × 2 seeds\) trained to their full budget by `lmsweep bench prune --record` in \d+ s/);
    expect(lines).toHaveLength(4);
    expect(readCurves(out)).toEqual(c);
  }, 120_000);

  it('--real\'s space is in the committed recording: its trials\' curves, for the replay beside the real runs', () => {
    const curves = readCurves(DEFAULT_CURVES);
    const sub = recordedSubset(REAL_SPACE, curves)!;
    expect(sub.trials.map((t) => `${t.label} ${t.seed}`)).toEqual([0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032].map((lr) => `lr=${lr} hidden=64 0`));
    expect(recordedSubset(REAL_SPACE.replace('hidden: 64', 'hidden: 96'), curves)).toBeNull();
  });
});
