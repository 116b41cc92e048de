// The storage suite's part on pruned sweeps (storage-suite.ts runs it on every backend): verdicts
// fenced by lease and attempt and judged one at a time under the sweep's lock, pruned trials as
// results, pauses that need their resume checkpoint, promotions that resume from it with the curve
// continued across attempts, and closures. What to decide is scripted here (the store writes what
// a judge returns; the decisions themselves are libs/search's, tested there and end to end).
import { describe, expect, it } from 'vitest';
import type { PruneVerdict } from '@lmsweep/protocol';
import { openDatabase } from './database.ts';
import { compressionPlans, LEASE, plansOf, result } from './storage-fixtures.ts';
import type { GrowthHarness } from './storage-suite-growth.ts';
import { type PruneJudge, type PruneView, TrialStore } from './trial-store.ts';
import { putArtifact } from './testing.ts';

const ASHA = { name: 'pruned', pruner: { type: 'asha' } };
const valid = (step: number, value: number) => [{ step, epoch: step / 100, name: 'valid_ppl', value }];
const stop = (step: number, reason = 'scripted'): PruneVerdict => ({ action: 'stop', step, rung: 0, value: 200, threshold: 150, reason });
const pause = (step: number): PruneVerdict => ({ action: 'pause', step, rung: 0, value: 200, threshold: null, reason: 'scripted pause' });
const decides = (verdict?: PruneVerdict, rest: Omit<ReturnType<PruneJudge>, 'verdict'> = {}): PruneJudge => () => ({ ...(verdict ? { verdict } : {}), ...rest });

export function pruningTests(h: GrowthHarness): void {
  describe('pruned sweeps', () => {
    const pruned = async (plans = plansOf({ 'model.hidden': [8, 16, 32] })) => {
      const s = await h.store().createSweep({ name: 'pruned', spec: ASHA, specText: 'pruner: { type: asha }', plans });
      h.tick(1);
      return s;
    };
    const row = (id: string) => h.store().prisma.trial.findUniqueOrThrow({ where: { id } });

    it('claims say judged for a pruned sweep, except a baseline compression trials start from', async () => {
      const store = h.store();
      await pruned(compressionPlans(['svd']));
      const base = (await store.claim('w', LEASE))!;
      expect(base.saveCheckpoint).toBe(true);
      expect(base.judged).toBeUndefined();
      const plain = await store.createSweep({ name: 'plain', spec: { name: 'plain' }, specText: 'name: plain', plans: plansOf({}) });
      const t = (await store.claim('w2', LEASE))!;
      expect(t.sweepId).toBe(plain.id);
      expect(t.judged).toBeUndefined();
      const p = await pruned();
      const j = (await store.claim('w3', LEASE))!;
      expect([j.sweepId, j.judged]).toEqual([p.id, true]);
    });

    it('stop: the trial is pruned at once (steps, rung, its value, the verdict), a result the sweep ends with; its late writes are refused', async () => {
      const store = h.store();
      const s = await pruned(plansOf({}));
      const t = (await store.claim('w', LEASE))!;
      expect(await store.addMetrics(t.id, 'w', t.attempt, valid(300, 210))).toBe(true);
      let seen: PruneView | undefined;
      const out = await store.judgeReport({ trialId: t.id, workerId: 'w', attempt: t.attempt, step: 300, value: 210 }, (v) => ((seen = v), { verdict: stop(300) }));
      expect(out).toMatchObject({ verdict: stop(300), promoted: [], closed: [] });
      expect(seen!.trials.map((x) => [x.id, x.status, x.points])).toEqual([[t.id, 'running', [{ step: 300, value: 210 }]]]);
      const r = await row(t.id);
      expect([r.status, r.steps, r.rung, r.validPpl, r.leaseExpiresAt, (r.verdict as { reason: string }).reason]).toEqual(['pruned', 300, 0, 210, null, 'scripted']);
      expect((await store.getSweep(s.id))!.status).toBe('succeeded');
      expect(await store.complete(t.id, 'w', t.attempt, result(100))).toBe('lost');
      expect(await store.heartbeat(t.id, 'w', t.attempt, 0.5, LEASE)).toBe(false);
      expect(await store.judgeReport({ trialId: t.id, workerId: 'w', attempt: t.attempt, step: 400, value: 200 }, decides(stop(400)))).toBe('lost');
    });

    it('is fenced: another worker or an old attempt is judged nothing; a resent report gets the verdict recorded', async () => {
      const store = h.store();
      await pruned(plansOf({}));
      const t = (await store.claim('w', LEASE))!;
      const never: PruneJudge = () => {
        throw new Error('judged a report it should not have');
      };
      expect(await store.judgeReport({ trialId: t.id, workerId: 'other', attempt: t.attempt, step: 100, value: 1 }, never)).toBe('lost');
      expect(await store.judgeReport({ trialId: t.id, workerId: 'w', attempt: t.attempt + 1, step: 100, value: 1 }, never)).toBe('lost');
      expect(await store.judgeReport({ trialId: t.id, workerId: 'w', attempt: t.attempt, step: 100, value: 1 }, decides(pause(100)))).toMatchObject({ verdict: pause(100) });
      expect(await store.judgeReport({ trialId: t.id, workerId: 'w', attempt: t.attempt, step: 100, value: 1 }, never)).toMatchObject({ verdict: pause(100) });
      expect((await row(t.id)).status).toBe('running');
    });

    it('pause needs the resume checkpoint of its attempt; paused, the trial holds the sweep open until promoted, then resumes from it with its curve continued', async () => {
      const store = h.store();
      const s = await pruned(plansOf({}));
      const t = (await store.claim('w', LEASE))!;
      await store.addMetrics(t.id, 'w', 1, [...valid(100, 300), ...valid(200, 250)]);
      await store.judgeReport({ trialId: t.id, workerId: 'w', attempt: 1, step: 200, value: 250 }, decides(pause(200)));
      const input = { trialId: t.id, workerId: 'w', attempt: 1, step: 200, sha256: '', seconds: 12 };
      const keep: PruneJudge = () => ({});
      expect((await store.pauseTrial({ ...input, sha256: 'a'.repeat(64) }, keep)).outcome).toBe('missing');
      const put = await putArtifact(store, t.id, 'w', 1, 'resume-1', new Uint8Array([7, 7, 7]));
      if (put.status !== 'ok') throw new Error('upload refused');
      expect((await store.pauseTrial({ ...input, sha256: 'b'.repeat(64) }, keep)).outcome).toBe('missing');
      expect((await store.pauseTrial({ ...input, step: 100, sha256: put.sha256 }, keep)).outcome).toBe('lost'); // not where it was told
      expect((await store.pauseTrial({ ...input, sha256: put.sha256 }, keep)).outcome).toBe('ok');
      expect((await store.pauseTrial({ ...input, sha256: put.sha256 }, keep)).outcome).toBe('duplicate');
      let r = await row(t.id);
      expect([r.status, r.steps, r.seconds, r.validPpl, r.segments, r.leaseExpiresAt]).toEqual(['paused', 200, 12, 250, [{ attempt: 1, through: 200 }], null]);
      expect(await store.refreshSweepStatus(s.id)).toBeNull();
      expect((await store.getSweep(s.id))!.counts).toMatchObject({ paused: 1, queued: 0, running: 0 });
      expect(await store.claim('w2', LEASE)).toBeNull();

      expect(await store.pruneStep(s.id, decides(undefined, { promote: [{ trialId: t.id, reason: 'promoted (scripted)' }] }))).toEqual({ promoted: [t.id], closed: [] });
      r = await row(t.id);
      expect([r.status, r.promotions]).toEqual(['queued', 1]);
      const resumed = (await store.claim('w2', LEASE))!;
      expect(resumed).toMatchObject({ id: t.id, attempt: 2, judged: true, resume: { name: 'resume-1', step: 200, sha256: put.sha256, bytes: 3 } });
      // The curve: attempt 1 through step 200, then attempt 2 (its points after 200).
      await store.addMetrics(t.id, 'w2', 2, valid(300, 220));
      let seen: PruneView | undefined;
      await store.judgeReport({ trialId: t.id, workerId: 'w2', attempt: 2, step: 300, value: 220 }, (v) => ((seen = v), {}));
      expect(seen!.trials[0]!.points).toEqual([
        { step: 100, value: 300 },
        { step: 200, value: 250 },
        { step: 300, value: 220 },
      ]);
      // Attempt 2 dies: what it reported is no part of the curve once it is requeued; attempt 3 resumes from the same checkpoint.
      h.tick(LEASE + 1);
      expect((await store.reapExpired()).requeued).toEqual([t.id]);
      await store.pruneStep(s.id, (v) => ((seen = v), {}));
      h.tick(60_000);
      const third = (await store.claim('w3', LEASE))!;
      expect(third).toMatchObject({ id: t.id, attempt: 3, resume: { name: 'resume-1', step: 200 } });
      await store.addMetrics(t.id, 'w3', 3, valid(300, 221));
      await store.judgeReport({ trialId: t.id, workerId: 'w3', attempt: 3, step: 300, value: 221 }, (v) => ((seen = v), { verdict: pause(300) }));
      expect(seen!.trials[0]!.points.map((p) => p.value)).toEqual([300, 250, 221]);
      const put3 = await putArtifact(store, t.id, 'w3', 3, 'resume-3', new Uint8Array([3]));
      if (put3.status !== 'ok') throw new Error('upload refused');
      expect((await store.pauseTrial({ trialId: t.id, workerId: 'w3', attempt: 3, step: 300, sha256: put3.sha256, seconds: 20 }, keep)).outcome).toBe('ok');
      // Only the last pause's checkpoint is kept.
      expect((await store.prisma.artifact.findMany({ where: { trialId: t.id } })).map((a) => a.name)).toEqual(['resume-3']);
      expect((await row(t.id)).segments).toEqual([
        { attempt: 1, through: 200 },
        { attempt: 3, through: 300 },
      ]);
      // Closed: pruned where it waits, and the sweep ends.
      const verdict = stop(300, 'rung closed (scripted)') as PruneVerdict & { action: 'stop' };
      expect(await store.pruneStep(s.id, decides(undefined, { close: [{ trialId: t.id, verdict }] }))).toEqual({ promoted: [], closed: [t.id] });
      expect((await row(t.id)).status).toBe('pruned');
      expect((await store.getSweep(s.id))!.status).toBe('succeeded');
    });

    it('a resumed trial completes with its steps; cancelling a sweep cancels its paused trials', async () => {
      const store = h.store();
      const s = await pruned(plansOf({ 'model.hidden': [8, 16] }));
      const a = (await store.claim('w', LEASE))!;
      await store.addMetrics(a.id, 'w', 1, valid(100, 300));
      await store.judgeReport({ trialId: a.id, workerId: 'w', attempt: 1, step: 100, value: 300 }, decides(pause(100)));
      const put = await putArtifact(store, a.id, 'w', 1, 'resume-1', new Uint8Array([1]));
      if (put.status !== 'ok') throw new Error('upload refused');
      expect((await store.pauseTrial({ trialId: a.id, workerId: 'w', attempt: 1, step: 100, sha256: put.sha256, seconds: 1 }, () => ({}))).outcome).toBe('ok');
      const b = (await store.claim('w', LEASE))!;
      expect(await store.complete(b.id, 'w', b.attempt, { ...result(120), steps: 400 })).toBe('ok');
      expect((await row(b.id)).steps).toBe(400);
      expect((await store.getSweep(s.id))!.status).toBe('running');
      expect(await store.cancelSweep(s.id)).toMatchObject({ cancelled: 1, running: [] });
      expect((await row(a.id)).status).toBe('cancelled');
    });

    it('judges one report at a time: concurrent reports each see the verdicts before them', async () => {
      const s = await pruned(plansOf({ 'model.hidden': [8, 16, 24, 32, 40, 48] }));
      const claimed = [];
      for (let i = 0; i < 6; i++) claimed.push((await h.store().claim(`w${i}`, LEASE))!);
      // Stops a report while fewer than 2 trials are pruned: without the lock, more would be.
      const atMostTwo: PruneJudge = (v) => (v.trials.filter((t) => t.status === 'pruned').length < 2 ? { verdict: stop(100) } : {});
      const dbs = h.multiProcess ? await Promise.all([0, 1, 2].map(() => openDatabase({ url: h.backend().url }))) : [];
      const stores = dbs.length ? dbs.map((db) => new TrialStore(db, { now: () => new Date(h.now()) })) : [h.store()];
      try {
        const outs = await Promise.all(claimed.map((t, i) => stores[i % stores.length]!.judgeReport({ trialId: t.id, workerId: `w${i}`, attempt: t.attempt, step: 100, value: 100 + i }, atMostTwo)));
        expect(outs.filter((o) => o !== 'lost' && o.verdict.action === 'stop')).toHaveLength(2);
        expect((await h.store().getSweep(s.id))!.counts).toMatchObject({ pruned: 2, running: 4 });
      } finally {
        for (const db of dbs) await db.close();
      }
    });
  });
}
