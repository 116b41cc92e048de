// The storage suite's part on sweeps that grow (storage-suite.ts runs it on every backend):
// trials appended under the sweep's lock, growing sweeps that only their growth step ends, the
// claim turn of appended trials, and several stores appending to one sweep at once.
import { describe, expect, it } from 'vitest';
import { MAX_TRIALS_PER_SWEEP, resolveConfig, TrialConfig, type TrialPlan } from '@lmsweep/protocol';
import { type Change, type Db, openDatabase } from './database.ts';
import type { Sweep } from './generated/client.ts';
import { compressionPlans, LEASE, planOf, plansOf, result, waitFor } from './storage-fixtures.ts';
import type { StorageBackend } from './storage-suite.ts';
import { type AppendDecision, type SweepGrowthState, TrialStore } from './trial-store.ts';
import { putArtifact } from './testing.ts';

export interface GrowthHarness {
  multiProcess: boolean;
  db(): Db;
  store(): TrialStore;
  backend(): StorageBackend;
  now(): number;
  tick(ms: number): void;
  sweep(plans: TrialPlan[], name?: string, grows?: boolean): Promise<Sweep>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dense = (hidden: number) => resolveConfig(TrialConfig.parse({ model: { hidden } }));

/** Completes every claimable trial (with a checkpoint where others start from it), until none is left. */
async function drain(store: TrialStore, ppl = 100): Promise<void> {
  for (;;) {
    const t = await store.claim('drainer', LEASE);
    if (!t) return;
    if (t.saveCheckpoint) await putArtifact(store, t.id, 'drainer', t.attempt, 'checkpoint', new Uint8Array([1, 2, 3]));
    expect(await store.complete(t.id, 'drainer', t.attempt, result(ppl))).toBe('ok');
  }
}

export function growthTests(h: GrowthHarness): void {
  describe('sweeps that grow', () => {
    it('appendPlans: ordinals continue, parents stored or new; an ended sweep runs again, its spec and the extension recorded', async () => {
      const db = h.db();
      const store = h.store();
      const s = await h.sweep(compressionPlans(['svd']));
      await drain(store);
      expect((await store.getSweep(s.id))!.status).toBe('succeeded');
      const [base0, svd0] = compressionPlans(['svd']);
      const gr = resolveConfig(TrialConfig.parse({ method: 'groupreduce' }));
      const changes: Change[] = [];
      const unlisten = await db.listen((c) => changes.push(c));
      let seen: SweepGrowthState | undefined;
      h.tick(5_000);
      const out = await store.appendPlans(s.id, (state) => {
        seen = state;
        return {
          plans: [
            { ...base0!, ordinal: 2, seed: 1 },
            { ...svd0!, ordinal: 3, seed: 1, parentOrdinal: 2 }, // a new seed: its baseline is new too
            planOf(4, gr, 0, 3, 0), // a new method on the stored baseline
          ],
          spec: { name: 'sw', grown: true },
          specText: 'name: sw # grown',
          extension: { by: 'tester', request: { seeds: 1 } },
        };
      });
      await waitFor(() => changes.some((c) => c.kind === 'sweep' && c.id === s.id));
      await unlisten();
      expect(seen).toMatchObject({ sweep: { id: s.id, status: 'succeeded', specText: 'name: sw', grows: false }, nextOrdinal: 2 });
      // the same state, read without the lock
      expect(await store.growthState('nope')).toBeNull();
      expect((await store.growthState(s.id))!.nextOrdinal).toBe(5);
      expect(seen!.trials.map((t) => [t.ordinal, t.status, t.seed, t.validPpl, t.flagged])).toEqual([
        [0, 'succeeded', 0, 100, false],
        [1, 'succeeded', 0, 100, false],
      ]);
      expect(out).toMatchObject({ status: 'appended', reopened: true, sweepStatus: 'running' });
      if (out.status !== 'appended') return;
      expect(out.trials.map((t) => t.ordinal)).toEqual([2, 3, 4]);
      const sw = (await store.getSweep(s.id))!;
      expect([sw.status, sw.finishedAt, sw.spec, sw.specText]).toEqual(['running', null, { name: 'sw', grown: true }, 'name: sw # grown']);
      expect(sw.counts).toMatchObject({ succeeded: 2, queued: 3, total: 5 });
      expect(sw.extensions).toEqual([{ at: new Date(h.now()).toISOString(), by: 'tester', request: { seeds: 1 }, trials: 3 }]);
      expect(changes).toContainEqual({ kind: 'sweep', id: s.id, status: 'running' });
      const rows = await db.prisma.trial.findMany({ where: { sweepId: s.id }, orderBy: { ordinal: 'asc' } });
      expect(rows.map((r) => [r.ordinal, r.method, r.seed, rows.find((p) => p.id === r.parentId)?.ordinal ?? null])).toEqual([
        [0, 'dense', 0, null],
        [1, 'svd', 0, 0],
        [2, 'dense', 1, null],
        [3, 'svd', 1, 2],
        [4, 'groupreduce', 0, 0],
      ]);
      // The new baseline and the trial on the stored one are claimable; the new svd seed waits for its baseline.
      const claimed = await store.claimMany(['a', 'b', 'c'], LEASE);
      expect(claimed.map((t) => t && rows.find((r) => r.id === t.id)!.ordinal)).toEqual([2, 4, null]);
      await drain(store);
      expect((await store.getSweep(s.id))!.status).toBe('running'); // a and b still hold theirs
    });

    it('appendPlans refuses plans that would break the sweep, naming them, and writes nothing; a missing sweep or no plans change nothing', async () => {
      const store = h.store();
      const db = h.db();
      const s = await h.sweep(plansOf({ 'model.hidden': [1, 2] }));
      const add = (plans: TrialPlan[]) => store.appendPlans(s.id, () => ({ plans, spec: { broken: true } }));
      const [p0, p1] = plansOf({ 'model.hidden': [1, 2] });
      await expect(add([planOf(1, dense(3), 0, 3)])).rejects.toThrow('plans[0].ordinal: 1 is not after the sweep\'s trials (the next ordinal is 2)');
      await expect(add([planOf(2, dense(3), 0, 3), planOf(2, dense(4), 0, 3)])).rejects.toThrow('plans[1].ordinal: 2 is given twice');
      await expect(add([{ ...p1!, ordinal: 2 }])).rejects.toThrow(`plans[0]: configuration ${p1!.configKey} already has seed 0`);
      await expect(add([planOf(2, dense(3), 0, 3), planOf(3, dense(3), 0, 3)])).rejects.toThrow(`plans[1]: configuration ${planOf(0, dense(3), 0, 3).configKey} already has seed 0`);
      await expect(add([planOf(2, dense(3), 0, 3, 7)])).rejects.toThrow('plans[0].parentOrdinal: no other trial of this sweep has ordinal 7');
      await expect(add([planOf(2, dense(3), 0, 3, 2)])).rejects.toThrow('plans[0].parentOrdinal: no other trial of this sweep has ordinal 2');
      const many = Array.from({ length: MAX_TRIALS_PER_SWEEP - 1 }, (_, i) => planOf(2 + i, p0!.config, i + 1, 3));
      await expect(add(many)).rejects.toThrow(`the sweep would hold ${MAX_TRIALS_PER_SWEEP + 1} trials; at most ${MAX_TRIALS_PER_SWEEP} are allowed`);
      await expect(store.appendPlans(s.id, () => { throw new Error('decided badly'); })).rejects.toThrow('decided badly');
      expect(await db.prisma.trial.count({ where: { sweepId: s.id } })).toBe(2);
      expect((await store.getSweep(s.id))!.spec).toEqual({ name: 'sw' });
      expect(await store.appendPlans('nope', () => ({ plans: [planOf(0, dense(3), 0, 3)] }))).toEqual({ status: 'missing' });
      expect(await store.appendPlans(s.id, () => null)).toEqual({ status: 'unchanged', sweepStatus: 'running' });
      expect(await store.appendPlans(s.id, () => ({ plans: [], done: true }))).toEqual({ status: 'unchanged', sweepStatus: 'running' }); // it does not grow: refreshSweepStatus ends it
    });

    it('trials appended to an older sweep take the next turns, beside a later sweep\'s trials, not behind its grid', async () => {
      const store = h.store();
      const db = h.db();
      const old = await h.sweep(plansOf({ 'model.hidden': [1, 2] }), 'old');
      await drain(store);
      const later = await h.sweep(plansOf({ 'model.hidden': Array.from({ length: 20 }, (_, i) => i + 1) }), 'later');
      const running = await store.claimMany(['r1', 'r2', 'r3'], LEASE);
      expect(running.every((t) => t?.sweepId === later.id)).toBe(true);
      const out = await store.appendPlans(old.id, (state) => ({ plans: [planOf(state.nextOrdinal, dense(7), 0, 3), planOf(state.nextOrdinal + 1, dense(8), 0, 3)] }));
      expect(out).toMatchObject({ status: 'appended', reopened: true });
      const next = await store.claimMany(['n1', 'n2', 'n3', 'n4'], LEASE);
      const rows = await db.prisma.trial.findMany({ select: { id: true, sweepId: true, ordinal: true } });
      const of = new Map(rows.map((r) => [r.id, `${r.sweepId === old.id ? 'old' : 'later'}#${r.ordinal}`]));
      // queueSeq alone would have given later#3 … later#19 first
      expect(next.map((t) => of.get(t!.id))).toEqual(['old#2', 'later#3', 'old#3', 'later#4']);
    });

    it('after many trials are added, claims read the queue order\'s index instead of sorting every queued trial', async () => {
      const store = h.store();
      const db = h.db();
      const many = plansOf({ 'model.hidden': Array.from({ length: 250 }, (_, i) => i + 1) }, 4);
      await h.sweep(many, 'a');
      const b = await h.sweep(plansOf({ 'model.hidden': [1] }), 'b');
      await store.appendPlans(b.id, (st) => ({ plans: many.map((p, i) => ({ ...p, seed: p.seed + 10, ordinal: st.nextOrdinal + i })) }));
      await store.claimMany(['w1', 'w2'], LEASE);
      const plan = await db.prisma.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN SELECT t.id FROM "Trial" t JOIN "Sweep" s ON s.id = t."sweepId"
        WHERE t.status = 'queued' AND s.status = 'running' AND (t."notBefore" IS NULL OR t."notBefore" <= now())
          AND (t."parentId" IS NULL OR EXISTS (SELECT 1 FROM "Trial" p WHERE p.id = t."parentId" AND p.status = 'succeeded'))
        ORDER BY t."queueRound", t."queueSeq" LIMIT 100 FOR UPDATE OF t SKIP LOCKED`);
      const text = plan.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toContain('Trial_queued_queueRound_idx');
      expect(text).not.toMatch(/^\s*->\s+Sort\b/m);
    });

    it('a growing sweep stays running when its last trial ends, until its growth step adds trials or says it needs none', async () => {
      const store = h.store();
      const s = await h.sweep(plansOf({ 'model.hidden': [1] }), 'grows', true);
      const plain = await h.sweep(plansOf({ 'model.hidden': [1] }), 'plain');
      expect(await store.growingSweeps()).toEqual([s.id]);
      expect(await store.appendPlans(s.id, () => ({ plans: [], done: true }))).toEqual({ status: 'unchanged', sweepStatus: 'running' }); // a trial is still queued
      await drain(store);
      expect((await store.getSweep(plain.id))!.status).toBe('succeeded');
      expect((await store.getSweep(s.id))!.status).toBe('running');
      expect(await store.refreshSweepStatus(s.id)).toBeNull();
      // one more seed, then nothing more
      expect(await store.appendPlans(s.id, (st) => ({ plans: [planOf(st.nextOrdinal, dense(1), 1, 3)] }))).toMatchObject({ status: 'appended', reopened: false });
      await drain(store);
      h.tick(10);
      expect(await store.appendPlans(s.id, () => ({ plans: [], done: true }))).toEqual({ status: 'unchanged', sweepStatus: 'succeeded' });
      const sw = (await store.getSweep(s.id))!;
      expect([sw.status, sw.finishedAt?.getTime(), sw.counts.succeeded]).toEqual(['succeeded', h.now(), 2]);
      expect(await store.growingSweeps()).toEqual([]);
      // a growing sweep none of whose trials succeeded fails
      const f = await h.sweep(plansOf({ 'model.hidden': [2] }), 'f', true);
      const t = (await store.claim('w', LEASE))!;
      expect(await store.fail(t.id, 'w', t.attempt, { kind: 'error', error: 'no', retryable: false })).toBe('failed');
      expect((await store.getSweep(f.id))!.status).toBe('running');
      expect(await store.appendPlans(f.id, () => ({ plans: [], done: true }))).toEqual({ status: 'unchanged', sweepStatus: 'failed' });
      // cancelled: the growth step never reopens it (only an explicit append does)
      const c = await h.sweep(plansOf({ 'model.hidden': [3] }), 'c', true);
      await store.cancelSweep(c.id);
      expect(await store.appendPlans(c.id, () => ({ plans: [], done: true }))).toEqual({ status: 'unchanged', sweepStatus: 'cancelled' });
    });

    it('a search state is stored at creation, read under the lock, and written with the trials or alone; a spec change alone reopens an ended sweep', async () => {
      const store = h.store();
      const first = { points: [{ key: 'k1', point: { 'model.hidden': 1 } }], rejected: 0, reasons: [] };
      const s = await store.createSweep({ name: 'search', spec: { name: 'search' }, specText: 'name: search', plans: plansOf({ 'model.hidden': [1] }), grows: true, search: first });
      expect((await store.growthState(s.id))!.sweep.search).toEqual(first);
      const second = { ...first, points: [...first.points, { key: 'k2', point: { 'model.hidden': 2 } }] };
      const out = await store.appendPlans(s.id, (st) => {
        expect(st.sweep.search).toEqual(first);
        return { plans: [planOf(st.nextOrdinal, dense(2), 0, 3)], search: second };
      });
      expect(out).toMatchObject({ status: 'appended', trials: [{ ordinal: 1 }] });
      expect((await store.getSweep(s.id))!.search).toEqual(second);
      // Rejections alone: the state is written, nothing else changes.
      const third = { ...second, rejected: 4, reasons: [{ path: 'model.phm.n', count: 4, example: 'does not divide' }] };
      expect(await store.appendPlans(s.id, () => ({ plans: [], search: third }))).toEqual({ status: 'unchanged', sweepStatus: 'running' });
      expect((await store.getSweep(s.id))!.search).toEqual(third);
      await drain(store);
      expect(await store.appendPlans(s.id, () => ({ plans: [], done: true }))).toEqual({ status: 'unchanged', sweepStatus: 'succeeded' });
      // A larger budget, no trials yet: the spec and the record change, and the sweep runs again for its growth step.
      const ext = await store.appendPlans(s.id, () => ({ plans: [], spec: { name: 'search', more: true }, specText: 'name: search # more', extension: { by: 'tester', request: { trials: 2 } } }));
      expect(ext).toEqual({ status: 'appended', trials: [], sweepStatus: 'running', reopened: true });
      const sw = (await store.getSweep(s.id))!;
      expect([sw.status, sw.finishedAt, sw.spec, sw.search]).toEqual(['running', null, { name: 'search', more: true }, third]);
      expect(sw.extensions).toEqual([{ at: expect.any(String), by: 'tester', request: { trials: 2 }, trials: 0 }]);
      // A grid sweep has none.
      expect((await store.growthState((await h.sweep(plansOf({ 'model.hidden': [5] }), 'grid')).id))!.sweep.search).toBeNull();
    });

    it('cancelSweep and refreshSweepStatus wait for an append under way, and see its trials', async () => {
      const store = h.store();
      const extra = h.multiProcess ? await openDatabase({ url: h.backend().url, migrate: false, poolMax: 2 }) : null;
      try {
        const other = extra ? new TrialStore(extra, { now: () => new Date(h.now()) }) : store;
        for (const op of ['refresh', 'cancel'] as const) {
          const s = await h.sweep(plansOf({ 'model.hidden': [1] }), op);
          // refresh: its trial ended (by hand: completing it would refresh the sweep at once); cancel: its trial runs
          if (op === 'refresh') await h.db().prisma.trial.updateMany({ where: { sweepId: s.id }, data: { status: 'succeeded' } });
          else await store.claim('w', LEASE);
          let entered!: () => void;
          const inside = new Promise<void>((r) => (entered = r));
          const appending = store.appendPlans(s.id, async (st) => {
            entered();
            await sleep(300); // holding the sweep's lock
            return { plans: [planOf(st.nextOrdinal, dense(9), 0, 3)] };
          });
          await inside;
          // The trial ended before the append began: without the lock, refresh would end the sweep on what it saw then.
          const second = op === 'refresh' ? other.refreshSweepStatus(s.id) : other.cancelSweep(s.id);
          await appending;
          const r = await second;
          const sw = (await store.getSweep(s.id))!;
          if (op === 'refresh') {
            expect(r).toBeNull();
            expect([sw.status, sw.counts.queued]).toEqual(['running', 1]);
          } else {
            expect(r).toMatchObject({ cancelled: 2 });
            expect([sw.status, sw.counts.queued, sw.counts.running, sw.counts.cancelled]).toEqual(['cancelled', 0, 0, 2]);
          }
        }
      } finally {
        await extra?.close();
      }
    });

    it('appends from several stores at once on one sweep: no trial twice, none beyond what the decision allows', async () => {
      const store = h.store();
      const db = h.db();
      const s = await h.sweep([planOf(0, dense(1), 0, 3)]);
      const key = planOf(0, dense(1), 0, 3).configKey;
      // A server: two more Db handles (two coordinators). PGlite: the one store, appends interleaved.
      const extra = h.multiProcess ? await Promise.all([0, 1].map(() => openDatabase({ url: h.backend().url, migrate: false, poolMax: 4 }))) : [];
      try {
        const stores = extra.length ? extra.map((d) => new TrialStore(d, { now: () => new Date(h.now()) })) : [store];
        // The decision: configuration `key` until it has 10 seeds, and at most 4 configurations, one more per call.
        const decide: AppendDecision = async (st) => {
          await sleep(2); // a decision takes time: every other append must wait for it, not read around it
          const seeds = st.trials.filter((t) => t.configKey === key).map((t) => t.seed);
          const configs = new Set(st.trials.map((t) => t.configKey));
          const plans: TrialPlan[] = [];
          if (seeds.length < 10) plans.push(planOf(st.nextOrdinal, dense(1), Math.max(...seeds) + 1, 3));
          if (configs.size < 4) plans.push(planOf(st.nextOrdinal + plans.length, dense(100 + configs.size), 0, 3));
          return { plans, done: plans.length === 0 };
        };
        const outcomes = await Promise.allSettled(Array.from({ length: 24 }, (_, i) => stores[i % stores.length]!.appendPlans(s.id, decide)));
        expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
        const appended = outcomes.filter((o) => o.status === 'fulfilled' && o.value.status === 'appended').length;
        const rows = await db.prisma.trial.findMany({ where: { sweepId: s.id }, orderBy: { ordinal: 'asc' } });
        expect(rows.map((r) => r.ordinal)).toEqual(Array.from({ length: 13 }, (_, i) => i));
        expect(rows.filter((r) => r.configKey === key).map((r) => r.seed).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(new Set(rows.map((r) => r.configKey)).size).toBe(4);
        expect(new Set(rows.map((r) => `${r.configKey}/${r.seed}`)).size).toBe(13);
        expect(appended).toBe(9); // seeds 1…9, three new configurations among the first three of them
      } finally {
        for (const d of extra) await d.close();
      }
    });
  });
}
