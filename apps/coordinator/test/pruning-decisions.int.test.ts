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
import { expandSweep, mergeScopes, parseSweepSpec, planPrune, pruneOpen, type PruneReadScope, pruneScope } from '@lmsweep/sweep';
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
  const judged = vi.spyOn(store, 'judgeReports');
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

/**
 * Two copies of one sweep, each on a database of its own, its nine trials claimed in each in the same
 * order; every round each running trial reports its next validation point. On `alone` each report
 * is judged by itself over the whole sweep (judgeReport); on `together` the round's reports are
 * triaged as the coordinator does and those the pruner can act on judged in one judgeReports over
 * their merged narrow scope. The verdicts must be the same, report by report, and so the rows.
 */
/** The nine trials (learning rates ascending, one seed each: no seed waits on a sibling) best first: the later ones have values to be stopped against. */
const ORDER = [3, 2, 4, 1, 5, 0, 6, 7, 8];

async function together(pruner: Record<string, unknown>, order: readonly number[] = ORDER) {
  const spec = parseSweepSpec({ name: `batch-${pruner.type}`, dataset: { name: 'ptb', vocabSize: 300 }, budget: { maxSteps: MAX, evalEvery: EVERY }, grid: { 'training.lr': LRS }, seeds: 1, pruner });
  const settings = prunerSettings(spec);
  const copies = await Promise.all(
    [0, 1].map(async () => {
      const db = await memoryDb();
      dbs.push(db);
      const store = new TrialStore(db);
      const sweep = await store.createSweep({ name: spec.name, spec, specText: '', plans: expandSweep(spec) });
      const trials = [];
      for (let i = 0; i < LRS.length; i++) {
        const t = (await store.claim(`w${i}`, 600_000))!;
        trials.push({ id: t.id, attempt: t.attempt, worker: `w${i}`, lr: (t.config as { training: { lr: number } }).training.lr, seed: t.seed, open: true });
      }
      return { store, sweep, trials };
    }),
  );
  const [alone, batch] = copies as [(typeof copies)[0], (typeof copies)[0]];
  const judge = (view: PruneView, r: JudgeInput) => planPrune(view.trials, settings, pruneOpen(spec, view.sweep.search), r);
  const seen = { stop: 0, pause: 0, batched: 0, lost: 0 };
  for (let step = EVERY; step < MAX; step += EVERY) {
    const open = order.filter((i) => alone.trials[i]!.open);
    if (!open.length) break;
    const reports = (c: typeof alone) =>
      open.map((i): JudgeInput => {
        const t = c.trials[i]!;
        return { trialId: t.id, sweepId: c.sweep.id, workerId: t.worker, attempt: t.attempt, step, value: value(t.lr, t.seed, step) };
      });
    for (const c of copies) for (const r of reports(c)) await c.store.addMetrics(r.trialId, r.workerId, r.attempt, [{ step, epoch: 0, name: 'valid_ppl', value: r.value }]);
    const want: (PruneVerdict | 'lost')[] = [];
    for (const r of reports(alone)) {
      const out = await alone.store.judgeReport(r, (view) => judge(view, r));
      want.push(out === 'lost' ? 'lost' : out.verdict);
    }
    // One report of the batch is not its worker's any more: it alone is lost.
    const rs = reports(batch);
    const stale = step === 2 * EVERY ? { ...rs[0]!, attempt: rs[0]!.attempt + 1 } : null;
    const got: (PruneVerdict | 'lost' | null)[] = rs.map(() => null);
    const judged: { at: number; report: JudgeInput; scope: PruneReadScope }[] = [];
    for (const [at, r] of (stale ? [stale, ...rs.slice(1)] : rs).entries()) {
      const triage = await batch.store.triageReport(r, false);
      const scope = triage === 'lost' ? ({ kind: 'sweep' } as const) : pruneScope(settings, r, triage);
      if (scope === 'continue') got[at] = { action: 'continue', step };
      else judged.push({ at, report: r, scope });
    }
    const outs = await batch.store.judgeReports(
      judged.map((j) => j.report),
      judge,
      mergeScopes(judged.map((j) => j.scope)),
    );
    if (judged.length > 1) seen.batched++;
    judged.forEach((j, k) => (got[j.at] = outs[k] === 'lost' ? 'lost' : (outs[k] as { verdict: PruneVerdict }).verdict));
    if (stale) {
      expect(got[0]).toBe('lost');
      seen.lost++;
      // Judged alone after all, as its worker's next message would be.
      const out = await batch.store.judgeReport(rs[0]!, (view) => judge(view, rs[0]!));
      got[0] = out === 'lost' ? 'lost' : out.verdict;
    }
    expect(got).toEqual(want);
    open.forEach((i, k) => {
      const v = want[k]!;
      if (v !== 'lost' && v.action !== 'continue') {
        seen[v.action]++;
        alone.trials[i]!.open = false;
        batch.trials[i]!.open = false;
      }
    });
  }
  const rows = async (c: typeof alone) =>
    (await c.store.prisma.trial.findMany({ where: { sweepId: c.sweep.id }, orderBy: { ordinal: 'asc' } })).map((t) => ({ ordinal: t.ordinal, status: t.status, rung: t.rung, steps: t.steps, verdict: t.verdict }));
  expect(await rows(batch)).toEqual(await rows(alone));
  return seen;
}

describe('prune decisions', () => {
  it('reports judged together (one judgeReports over their merged scope) get the verdicts they get one by one', async () => {
    const asha = await together({ type: 'asha', minSteps: EVERY, reduction: 3 });
    expect(asha.stop).toBeGreaterThan(0);
    expect(asha.batched).toBeGreaterThan(0);
    expect(asha.lost).toBe(1);
    // Worst first: each pauses, until better ones come; a decision must see those before it pausing, not running on.
    const promotion = await together({ type: 'asha', minSteps: EVERY, reduction: 3, promotion: true }, [...ORDER].reverse());
    expect(promotion.pause).toBeGreaterThan(0);
    expect(promotion.batched).toBeGreaterThan(0);
  });

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
