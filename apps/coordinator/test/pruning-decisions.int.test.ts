// The coordinator's prune decisions against planPrune over the whole sweep as stored: workers
// report known curves in an interleaved order, every validation point before the last judged by
// SweepPruning (the fast path from the trial alone, or a narrow read under the sweep's lock), and
// each verdict equals planPrune's over every trial with its whole curve read just before. A
// report between rungs is answered without the decision's transaction and writes nothing. A
// coordinator started afresh on the same database (a new store and SweepPruning: nothing in
// memory) answers a resent report as the first did.
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type PruneVerdict, prunerSettings, SweepSpec } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec, planPrune, pruneOpen } from '@lmsweep/sweep';
import { type Db, type JudgeInput, type PruneView, TrialStore } from '@lmsweep/db';
import { memoryDb } from '@lmsweep/db/testing';
import { SweepPruning } from '../src/pruning.ts';
import { result } from './helpers.ts';

const dbs: Db[] = [];
afterAll(async () => {
  for (const db of dbs) await db.close();
});

const LRS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5];
const MAX = 900;
const EVERY = 100;
const value = (lr: number, seed: number, step: number) => (100 + 30 * (Math.log10(lr) + 2) ** 2 + 0.5 * seed) * (1 + 2 * Math.exp(-step / 300));
const log = pino({ level: 'silent' });

class Expected extends Error {
  constructor(readonly view: PruneView) {
    super('read only');
  }
}

/** planPrune's verdict over the whole sweep as stored now (read under the lock, then rolled back). */
async function expected(store: TrialStore, spec: SweepSpec, r: JudgeInput): Promise<PruneVerdict | 'lost'> {
  try {
    const out = await store.judgeReport(r, (view) => {
      throw new Expected(view);
    });
    if (out === 'lost') return 'lost';
    // A verdict recorded before (a resent report) is answered without judging.
    return out.verdict;
  } catch (e) {
    if (!(e instanceof Expected)) throw e;
    const open = pruneOpen(spec, e.view.sweep.search);
    return planPrune(e.view.trials, prunerSettings(spec), open, r).verdict!;
  }
}

async function run(pruner: Record<string, unknown>) {
  const db = await memoryDb();
  dbs.push(db);
  const store = new TrialStore(db);
  const spec = parseSweepSpec({ name: `decisions-${pruner.type}`, dataset: { name: 'ptb', vocabSize: 300 }, budget: { maxSteps: MAX, evalEvery: EVERY }, grid: { 'training.lr': LRS }, seeds: 2, pruner });
  const sweep = await store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) });
  const pruning = new SweepPruning({ store, log });
  const judged = vi.spyOn(store, 'judgeReport');
  const seen = { continue: 0, stop: 0, pause: 0, fast: 0 };
  // Four workers at a time, each a step ahead of the next, so trials overlap at every rung.
  const slots: ({ id: string; attempt: number; lr: number; seed: number; step: number; worker: string } | null)[] = [null, null, null, null];
  for (let round = 0; round < 400; round++) {
    const i = round % slots.length;
    const worker = `w${i}`;
    if (!slots[i]) {
      const t = await store.claim(worker, 600_000);
      if (!t) {
        if (slots.every((s) => !s)) break;
        continue;
      }
      slots[i] = { id: t.id, attempt: t.attempt, lr: (t.config as { training: { lr: number } }).training.lr, seed: t.seed, step: 0, worker };
    }
    const s = slots[i]!;
    s.step += EVERY;
    const v = value(s.lr, s.seed, s.step);
    expect(await store.addMetrics(s.id, worker, s.attempt, [{ step: s.step, epoch: 0, name: 'valid_ppl', value: v }])).toBe(true);
    if (s.step === MAX) {
      expect(await store.complete(s.id, worker, s.attempt, result(v))).toBe('ok');
      slots[i] = null;
      continue;
    }
    const r: JudgeInput = { trialId: s.id, sweepId: sweep.id, workerId: worker, attempt: s.attempt, step: s.step, value: v };
    const want = await expected(store, spec, r);
    judged.mockClear();
    const before = await store.prisma.trial.findUniqueOrThrow({ where: { id: s.id } });
    const got = await pruning.judge(r);
    expect(got).toEqual(want);
    if (got === 'lost') throw new Error('lost a lease');
    seen[got.action]++;
    if (!judged.mock.calls.length) {
      seen.fast++;
      // Answered from the trial alone: continue, and its row is as it was.
      expect(got.action).toBe('continue');
      expect(await store.prisma.trial.findUniqueOrThrow({ where: { id: s.id } })).toEqual(before);
    }
    // A coordinator started afresh (nothing in memory) answers the resent report the same.
    const again = await new SweepPruning({ store: new TrialStore(db), log }).judge(r);
    expect(again).toEqual(got.action === 'stop' ? 'lost' : got);
    if (got.action !== 'continue') slots[i] = null;
  }
  await pruning.close();
  return seen;
}

describe('prune decisions', () => {
  it('ASHA: every verdict is planPrune\'s over the whole sweep; reports between rungs are answered from the trial alone', async () => {
    const seen = await run({ type: 'asha', minSteps: EVERY, reduction: 3 });
    expect(seen.stop).toBeGreaterThan(0);
    expect(seen.continue).toBeGreaterThan(seen.fast);
    expect(seen.fast).toBeGreaterThan(0);
  });

  it('median: every verdict is planPrune\'s over the whole sweep; its warmup is answered from the trial alone', async () => {
    const seen = await run({ type: 'median', warmupTrials: 2, warmupSteps: 200 });
    expect(seen.stop).toBeGreaterThan(0);
    expect(seen.fast).toBeGreaterThan(0);
  });
});
