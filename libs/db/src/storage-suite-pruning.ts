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
import { type ClaimedTrial, type PruneJudge, type PruneView, TrialStore } from './trial-store.ts';
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

    it('judged metric messages: points stored and each trial triaged in one statement, as addMetrics then triageReport; a lost lease stores nothing', async () => {
      const store = h.store();
      await pruned(plansOf({ 'training.lr': [0.1, 0.2] }, 1));
      const [a, b] = [(await store.claim('w0', LEASE))!, (await store.claim('w1', LEASE))!];
      await store.addMetrics(a.id, 'w0', a.attempt, valid(100, 300));
      const reports = [
        { trialId: a.id, workerId: 'w0', attempt: a.attempt, points: valid(200, 250), step: 200, withSpec: true },
        { trialId: b.id, workerId: 'w0', attempt: b.attempt, points: valid(100, 280), step: 100, withSpec: false },
        { trialId: b.id, workerId: 'w1', attempt: b.attempt, points: valid(100, 290), step: 100, withSpec: false },
      ];
      const out = await store.addJudgedMetricsMany(reports);
      expect(out[0]).toEqual({ sweepId: a.sweepId, spec: ASHA, verdict: null, prevStep: 100, tokensPerStep: 400, hasChildren: false, configPruned: false, succeeded: 0 });
      expect(out[1]).toBe('lost');
      expect(out[2]).toEqual({ sweepId: b.sweepId, verdict: null, prevStep: null, tokensPerStep: 400, hasChildren: false, configPruned: false, succeeded: 0 });
      // The same as the look on its own, now that the points are in.
      expect(await store.triageReport({ trialId: a.id, workerId: 'w0', attempt: a.attempt, step: 200, value: 250 }, true)).toEqual(out[0]);
      const points = await store.prisma.trialMetric.findMany({ where: { trialId: { in: [a.id, b.id] }, name: 'valid_ppl' }, orderBy: [{ trialId: 'asc' }, { step: 'asc' }] });
      expect(points.map((p) => [p.trialId, p.step, p.value]).sort()).toEqual([[a.id, 100, 300], [a.id, 200, 250], [b.id, 100, 290]].sort());
      // Resent: stored once, triaged alike.
      expect(await store.addJudgedMetricsMany([reports[0]!])).toEqual([out[0]]);
      expect(await store.prisma.trialMetric.count({ where: { trialId: a.id, name: 'valid_ppl' } })).toBe(2);
    });

    it('triage: one fenced look at the reporter (its previous point, a pruned seed of its configuration, succeeded trials); narrow views read what their scope says', async () => {
      const store = h.store();
      // Three configurations with two seeds each; a and a2 the seeds of one, b and b2 of another.
      const s = await pruned(plansOf({ 'training.lr': [0.1, 0.2, 0.3] }, 2));
      const claimed: ClaimedTrial[] = [];
      for (let i = 0; i < 6; i++) claimed.push((await store.claim(`w${i}`, LEASE))!);
      const seedsOf = (lr: number) => claimed.filter((t) => (t.config as { training: { lr: number } }).training.lr === lr).sort((x, y) => x.seed - y.seed);
      const [a, a2] = seedsOf(0.1) as [ClaimedTrial, ClaimedTrial];
      const [b, b2] = seedsOf(0.2) as [ClaimedTrial, ClaimedTrial];
      const [c] = seedsOf(0.3);
      const w = (t: { id: string }) => `w${claimed.findIndex((x) => x.id === t.id)}`;
      // c goes back to the queue: a queued trial whose attempt is over (no curve).
      expect(await store.release(c!.id, w(c!), c!.attempt, 'test')).toBe(true);
      const report = { trialId: a.id, workerId: w(a), attempt: a.attempt, step: 300, value: 200 };
      expect(await store.triageReport({ ...report, workerId: w(b) }, false)).toBe('lost');
      expect(await store.triageReport({ ...report, attempt: a.attempt + 1 }, false)).toBe('lost');
      await store.addMetrics(a.id, w(a), a.attempt, [...valid(100, 300), ...valid(200, 250), ...valid(300, 200)]);
      expect(await store.triageReport(report, true)).toEqual({ sweepId: s.id, spec: ASHA, verdict: null, prevStep: 200, tokensPerStep: 400, hasChildren: false, configPruned: false, succeeded: 0 });
      expect(await store.triageReport({ ...report, step: 100 }, false)).toMatchObject({ prevStep: null });
      expect(await store.triageReport(report, false)).not.toHaveProperty('spec');
      // b: stopped at 100, b2: succeeded; a2 reports at 100 only.
      await store.addMetrics(b.id, w(b), b.attempt, valid(100, 400));
      await store.judgeReport({ trialId: b.id, workerId: w(b), attempt: b.attempt, step: 100, value: 400 }, decides(stop(100)));
      await store.addMetrics(b2.id, w(b2), b2.attempt, [...valid(100, 390), ...valid(200, 380), ...valid(300, 370), ...valid(400, 360)]);
      expect(await store.triageReport({ trialId: b2.id, workerId: w(b2), attempt: b2.attempt, step: 400, value: 1 }, false)).toMatchObject({ configPruned: true, prevStep: 300 });
      expect(await store.complete(b2.id, w(b2), b2.attempt, result(350))).toBe('ok');
      await store.addMetrics(a2.id, w(a2), a2.attempt, valid(100, 310));
      expect(await store.triageReport(report, false)).toMatchObject({ configPruned: false, succeeded: 1 });
      expect(await store.triageReport({ trialId: b2.id, workerId: w(b2), attempt: b2.attempt, step: 400, value: 1 }, false)).toBe('lost');
      const viewOf = async (scope: Parameters<TrialStore['judgeReport']>[2]) => {
        let seen: PruneView | undefined;
        await store.judgeReport(report, (v) => ((seen = v), {}), scope);
        return Object.fromEntries(seen!.trials.map((t) => [t.id, t.points.map((p) => p.step)]));
      };
      const whole = { [a.id]: [100, 200, 300], [a2.id]: [100], [b.id]: [100], [b2.id]: [100, 200, 300, 400] };
      const d = seedsOf(0.3)[1]!;
      expect(await viewOf({ kind: 'sweep' })).toEqual({ ...whole, [c!.id]: [], [d.id]: [] });
      // At rung 300 (and 150: the first point at or past it): the reporter's configuration whole, the others at the rungs; no queued trial.
      expect(await viewOf({ kind: 'rungs', rungs: [150, 300], tokens: false })).toEqual({ ...whole, [b.id]: [], [b2.id]: [200, 300], [d.id]: [] });
      expect(await viewOf({ kind: 'rungs', rungs: [120_000], tokens: true })).toEqual({ ...whole, [b.id]: [], [b2.id]: [300], [d.id]: [] });
      // The median's: the succeeded trials at the step, and the reporter's configuration.
      expect(await viewOf({ kind: 'step', step: 300 })).toEqual({ [a.id]: [100, 200, 300], [a2.id]: [100], [b2.id]: [300] });
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
      // The analysis views read the same curve (attempt 2's point at 300 is no part of it), where it paused and that it was promoted.
      const [seenBy] = (await store.analysisTrials(s.id))!;
      expect(seenBy).toMatchObject({ id: t.id, status: 'paused', steps: 300, promotions: 1, segments: [{ attempt: 1, through: 200 }, { attempt: 3, through: 300 }] });
      expect(seenBy!.curve).toEqual([
        { step: 100, value: 300 },
        { step: 200, value: 250 },
        { step: 300, value: 221 },
      ]);
      expect((await store.analysisTrials(s.id, { curves: false }))![0]!.curve).toEqual([]);
      expect(await store.analysisTrials('nope')).toBeNull();
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
