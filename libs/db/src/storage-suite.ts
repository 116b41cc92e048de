// One storage test suite, run against every backend (Optuna's StorageTestCase idea): the same
// claim/lease/report tests on PGlite (trial-store.test.ts) and on a PostgreSQL server
// (trial-store.int.test.ts). Not exported from the package index (it imports vitest).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MetricPoint, TrialPlan } from '@lmsweep/protocol';
import { type Change, type Db, openDatabase } from './database.ts';
import { BASE, compressionPlans, LEASE, plansOf, result, T0, waitFor } from './storage-fixtures.ts';
import { growthTests } from './storage-suite-growth.ts';
import { pruningTests } from './storage-suite-pruning.ts';
import { DEFAULT_MIGRATIONS_DIR, readMigrations } from './migrate.ts';
import { type ClaimedTrial, TrialStore } from './trial-store.ts';
import { getArtifact, putArtifact } from './testing.ts';

export interface StorageBackend {
  /** The database the suite's shared Db opens (emptied before every test). */
  url: string;
  /** A new, empty database that can be opened, closed and opened again. */
  freshUrl(): Promise<string>;
  teardown(): Promise<void>;
}

export interface StorageSuiteOptions {
  /**
   * Whether several Db handles (processes) may use one database at once: a server yes (claims
   * then contend over 20 connections, two coordinators migrate at once), PGlite no.
   */
  multiProcess: boolean;
  /** Starts the backend (in beforeAll). */
  setup(): Promise<StorageBackend>;
}

/** A PGlite backend: the shared database in memory, fresh ones in temp data dirs (nested, so parents get created). */
export function pgliteBackend(): StorageBackend {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-pglite-'));
  let n = 0;
  return {
    url: 'memory://',
    freshUrl: async () => path.join(root, `d${n++}`, 'nested', 'db'),
    teardown: async () => rmSync(root, { recursive: true, force: true }),
  };
}

export function storageSuite(name: string, opts: StorageSuiteOptions): void {
  const { multiProcess } = opts;
  describe(`storage: ${name}`, () => {
    let backend: StorageBackend;
    let db: Db;
    let store: TrialStore;
    let now = T0;
    const tick = (ms: number) => {
      now += ms;
    };

    beforeAll(async () => {
      backend = await opts.setup();
      db = await openDatabase({ url: backend.url });
    });
    afterAll(async () => {
      await db?.close();
      await backend?.teardown();
    });
    beforeEach(async () => {
      await db.prisma.$executeRawUnsafe('TRUNCATE "ArtifactChunk", "Artifact", "TrialMetric", "Trial", "Sweep", "Worker", "SlurmJob"');
      now = T0;
      store = new TrialStore(db, { now: () => new Date(now), backoffBaseMs: BASE });
    });

    const sweep = async (plans: TrialPlan[], name = 'sw') => {
      const s = await store.createSweep({ name, spec: { name }, specText: `name: ${name}`, plans });
      tick(1); // distinct createdAt per sweep
      return s;
    };

    describe('migrations', () => {
      it('records the init migration as prisma migrate deploy does, and re-opening applies nothing', async () => {
        const files = readMigrations();
        expect(files.length).toBeGreaterThan(0);
        const url = await backend.freshUrl();
        const opened = multiProcess
          ? await Promise.all([openDatabase({ url }), openDatabase({ url })]) // two coordinators starting together
          : [await openDatabase({ url })];
        expect(opened.map((d) => d.migrationsApplied.length).sort()).toEqual(multiProcess ? [0, files.length] : [files.length]);
        for (const d of opened) await d.close();
        const again = await openDatabase({ url });
        try {
          expect(again.migrationsApplied).toEqual([]);
          const rows = await again.prisma.$queryRaw<
            { migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null; applied_steps_count: number; logs: string | null }[]
          >`SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY migration_name`;
          expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
          expect(rows[0]!.checksum).toBe(files[0]!.checksum);
          expect(rows[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
          expect(rows[0]!.finished_at).toBeInstanceOf(Date);
          expect(rows[0]!.rolled_back_at).toBeNull();
          expect(rows[0]!.applied_steps_count).toBe(1);
          expect(rows[0]!.logs).toBeNull();
          // and the schema is usable
          expect(await again.prisma.sweep.count()).toBe(0);
        } finally {
          await again.close();
        }
      });

      // PGlite's migrator gets the same test on one in-memory instance (trial-store.test.ts): reopening on disk is slow.
      if (multiProcess) it('a failing migration leaves nothing behind; an unresolved failed one blocks opening', async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-migs-'));
        try {
          const init = readMigrations()[0]!;
          mkdirSync(path.join(dir, init.name));
          copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, init.name, 'migration.sql'), path.join(dir, init.name, 'migration.sql'));
          mkdirSync(path.join(dir, '20990101000000_bad'));
          writeFileSync(path.join(dir, '20990101000000_bad', 'migration.sql'), 'CREATE TABLE "Half" (id int);\nSELECT no_such_function();\n');
          const url = await backend.freshUrl();
          await expect(openDatabase({ url, migrationsDir: dir })).rejects.toThrow(/20990101000000_bad failed/);
          const d = await openDatabase({ url }); // the committed migrations: init was applied, the bad one not
          try {
            expect(d.migrationsApplied).toEqual(readMigrations().slice(1).map((m) => m.name));
            const half = await d.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'Half'`;
            expect(half[0]!.n).toBe(0);
            await d.prisma.$executeRaw`INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ('x', 'y', '20990101000001_crashed')`;
          } finally {
            await d.close();
          }
          await expect(openDatabase({ url })).rejects.toThrow(/20990101000001_crashed failed earlier/);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });

    describe('sweeps and trial reads', () => {
      it('notes: a Markdown note on a sweep and on a trial, replaced whole, with when; none for a missing id; too long refused, naming the field', async () => {
        const a = await sweep(plansOf({ 'model.hidden': [10, 20] }), 'noted');
        const [t] = (await store.listTrials({ sweepId: a.id })).items;
        expect((await store.getSweep(a.id))!).toMatchObject({ note: '', noteUpdatedAt: null });
        const first = await store.setNote('sweep', a.id, '# Why\nlr **0.1** wins');
        expect(first!.note).toBe('# Why\nlr **0.1** wins');
        expect((await store.getSweep(a.id))!).toMatchObject({ note: '# Why\nlr **0.1** wins', noteUpdatedAt: first!.noteUpdatedAt });
        expect((await store.setNote('trial', t!.id, 'seed 0 diverged once'))!.note).toBe('seed 0 diverged once');
        await store.setNote('trial', t!.id, 'replaced');
        expect((await store.getTrial(t!.id))!.note).toBe('replaced');
        expect(await store.setNote('trial', 'nope', 'x')).toBeNull();
        expect(await store.setNote('sweep', 'nope', 'x')).toBeNull();
        await expect(store.setNote('sweep', a.id, 'x'.repeat(20_001))).rejects.toThrow(/^note: at most 20000 characters/);
      });

      it('createSweep queues every plan; listTrials filters, sorts and pages', async () => {
        const a = await sweep(plansOf({ 'model.hidden': [10, 20, 30] }, 2), 'a');
        const bPlans = plansOf({ 'training.lr': [0.5, 1] }, 2).map((p, i) => ({ ...p, method: i % 2 ? 'phm' : 'dense' }));
        const b = await sweep(bPlans, 'b');
        expect(a.status).toBe('running');
        expect(a.id).toMatch(/^s_[0-9a-z]+$/);

        const all = await store.listTrials({ limit: 100 });
        expect(all.total).toBe(10);
        expect(all.items.map((t) => [t.sweepId, t.ordinal])).toEqual([
          ...[0, 1, 2, 3, 4, 5].map((o) => [a.id, o]),
          ...[0, 1, 2, 3].map((o) => [b.id, o]),
        ]);
        expect(new Set(all.items.map((t) => t.id)).size).toBe(10);
        expect(all.items.every((t) => t.status === 'queued' && t.attempt === 0 && t.maxAttempts === 3)).toBe(true);

        expect((await store.listTrials({ sweepId: b.id })).total).toBe(4);
        expect((await store.listTrials({ method: 'phm' })).items.map((t) => t.ordinal)).toEqual([1, 3]);
        const page = await store.listTrials({ sweepId: a.id, sort: 'ordinal', order: 'desc', limit: 2, offset: 1 });
        expect(page.total).toBe(6);
        expect(page.items.map((t) => t.ordinal)).toEqual([4, 3]);

        // finish three of sweep a with different perplexities: ppl sorts put unfinished ones last
        // (the sweeps take turns: b's trials claimed between them go back to the queue)
        const ppls = [120, 80, 100];
        for (const c of await store.claimMany(['w1', 'w1', 'w1', 'w1', 'w1', 'w1'], LEASE)) {
          if (c!.sweepId === a.id) expect(await store.complete(c!.id, 'w1', c!.attempt, result(ppls[0]!, ppls.shift()! * 10))).toBe('ok');
          else expect(await store.release(c!.id, 'w1', c!.attempt, 'not this one')).toBe(true);
        }
        expect(ppls).toEqual([]);
        const byPpl = await store.listTrials({ sweepId: a.id, sort: 'validPpl', order: 'asc' });
        expect(byPpl.items.map((t) => t.validPpl)).toEqual([80, 100, 120, null, null, null]);
        const byPplDesc = await store.listTrials({ sweepId: a.id, sort: 'testPpl', order: 'desc', limit: 3 });
        expect(byPplDesc.items.map((t) => t.testPpl)).toEqual([120 * 0.95, 100 * 0.95, 80 * 0.95]);
        expect((await store.listTrials({ sort: 'params', order: 'desc', limit: 1 })).items[0]!.params).toBe(1200);
        expect((await store.listTrials({ status: 'succeeded' })).total).toBe(3);

        const sweeps = await store.listSweeps({ limit: 10, offset: 0 });
        expect(sweeps.total).toBe(2);
        expect(sweeps.items.map((s) => s.name)).toEqual(['b', 'a']); // newest first
        expect(sweeps.items[1]!.counts).toEqual({ queued: 3, running: 0, paused: 0, succeeded: 3, pruned: 0, failed: 0, cancelled: 0, total: 6 });
        expect((await store.listSweeps({ limit: 1, offset: 1 })).items.map((s) => s.name)).toEqual(['a']);
        const got = await store.getSweep(b.id);
        expect(got?.counts.queued).toBe(4);
        expect(got?.spec).toEqual({ name: 'b' });
        expect(await store.getSweep('nope')).toBeNull();
        expect(await store.getTrial('nope')).toBeNull();

        const lb = await store.leaderboardGroups({ sweepId: a.id });
        expect(lb.flatMap((g) => g.validPpl).sort()).toEqual([100, 120, 80].sort());
        for (const g of lb) {
          expect(g).toEqual({
            sweepId: a.id,
            configKey: expect.any(String),
            config: expect.any(Object),
            method: 'dense',
            params: expect.any(Number),
            seeds: [...g.seeds].sort((x, y) => x - y),
            trialIds: expect.any(Array),
            validPpl: expect.any(Array),
            testPpl: expect.any(Array),
            flagged: [],
          });
          expect([g.trialIds.length, g.validPpl.length, g.testPpl.length]).toEqual([g.seeds.length, g.seeds.length, g.seeds.length]);
          const trials = await db.prisma.trial.findMany({ where: { id: { in: g.trialIds } } });
          expect(trials.every((t) => t.configKey === g.configKey && t.status === 'succeeded')).toBe(true);
          // in seed order, each perplexity its trial's
          g.trialIds.forEach((id, i) => expect(trials.find((t) => t.id === id)!.validPpl).toBe(g.validPpl[i]));
        }
        expect(await store.leaderboardGroups({ sweepId: b.id })).toEqual([]);
      });

      it('creates thousands of trials quickly', async () => {
        const plans = plansOf({ 'model.hidden': Array.from({ length: 100 }, (_, i) => i + 1), 'training.lr': [0.1, 0.2, 0.5, 1, 2] }, 4);
        expect(plans.length).toBe(2000);
        const t = Date.now();
        const s = await sweep(plans);
        expect(Date.now() - t).toBeLessThan(10_000);
        expect((await store.getSweep(s.id))?.counts.queued).toBe(2000);
      });

      it('refuses plans whose parent is not among them, naming the plan, and stores nothing', async () => {
        const [base, svd] = compressionPlans(['svd']);
        await expect(store.createSweep({ name: 'x', spec: {}, specText: '', plans: [{ ...base!, ordinal: 3 }, svd!] })).rejects.toThrow('plans[1].parentOrdinal: no other plan of this sweep has ordinal 0');
        await expect(store.createSweep({ name: 'x', spec: {}, specText: '', plans: [{ ...base!, parentOrdinal: 0 }] })).rejects.toThrow('plans[0].parentOrdinal: no other plan of this sweep has ordinal 0');
        expect(await db.prisma.sweep.count()).toBe(0);
        expect(await db.prisma.trial.count()).toBe(0);
      });
    });

    describe('the queue', () => {
      it('runs a compression trial after its baseline, which must store its checkpoint first', async () => {
        const plans = compressionPlans(['svd']);
        expect(plans.map((p) => [p.method, p.parentOrdinal])).toEqual([['dense', undefined], ['svd', 0]]);
        await sweep(plans);
        const base = (await store.claim('wa', LEASE))!;
        expect([base.method, base.saveCheckpoint, base.parent]).toEqual(['dense', true, undefined]);
        expect(await store.claim('wb', LEASE)).toBeNull(); // the svd trial waits for its baseline
        expect(await store.complete(base.id, 'wa', 1, result(100))).toBe('missing');
        const bytes = new Uint8Array(3 << 20).map((_, i) => (i * 2654435761) >>> 24);
        expect(await putArtifact(store, base.id, 'wb', 1, 'checkpoint', bytes)).toEqual({ status: 'lost' });
        expect(await putArtifact(store, base.id, 'wa', 1, 'checkpoint', bytes.subarray(0, 10))).toMatchObject({ status: 'ok' });
        const put = await putArtifact(store, base.id, 'wa', 1, 'checkpoint', bytes); // a retried upload replaces the first
        expect(put.status).toBe('ok');
        expect(await store.complete(base.id, 'wa', 1, result(100))).toBe('ok');
        const child = (await store.claim('wb', LEASE))!;
        expect(child.method).toBe('svd');
        expect(child.parent).toEqual({ trialId: base.id, sha256: put.status === 'ok' ? put.sha256 : '', bytes: bytes.length });
        expect(child.saveCheckpoint).toBeUndefined();
        const got = (await getArtifact(store, base.id, 'checkpoint'))!;
        expect([got.attempt, got.size, Buffer.from(got.data).equals(Buffer.from(bytes))]).toEqual([1, bytes.length, true]);
        expect(await getArtifact(store, child.id, 'checkpoint')).toBeNull();
      });

      it('collects the chunks of uploads never finished nor discarded once older than the upload timeout; nothing in use', async () => {
        await sweep(compressionPlans(['svd']));
        const base = (await store.claim('wa', LEASE))!;
        const a = store.artifacts;
        const chunksOf = async () => (await db.prisma.artifactChunk.findMany({ select: { uploadId: true }, orderBy: [{ uploadId: 'asc' }, { seq: 'asc' }] })).map((c) => c.uploadId);
        const bytes = new Uint8Array(10_000).map((_, i) => i & 255);
        // A finished artifact, an upload whose coordinator crashed (two pieces, never finished), then a live one.
        expect(await putArtifact(a, base.id, 'wa', 1, 'checkpoint', bytes, { chunkBytes: 4096 })).toMatchObject({ status: 'ok' });
        const kept = (await a.info(base.id, 'checkpoint'))!.uploadId;
        const crashed = a.newUpload(base.id, 'wa', 1);
        expect(await a.putChunk(crashed, 0, bytes)).toBe(true);
        expect(await a.putChunk(crashed, 1, bytes)).toBe(true);
        tick(60_000);
        const live = a.newUpload(base.id, 'wa', 1);
        expect(await a.putChunk(live, 0, bytes)).toBe(true);
        // Not yet old enough: nothing goes.
        expect(await a.collectOrphans(120_000)).toBe(0);
        tick(61_000);
        // The crashed upload is 121 s old, the live one 61 s: only the crashed one's chunks go; the artifact's stay however old.
        expect(await a.collectOrphans(120_000)).toBe(2);
        expect((await chunksOf()).sort()).toEqual([kept, kept, kept, live.uploadId].sort());
        expect(await a.finish(live, 'other', { sha256: 'x'.repeat(64), size: 10_000, chunks: 1 })).toBe('ok');
        tick(10 * 60_000);
        expect(await a.collectOrphans(120_000)).toBe(0);
        expect((await getArtifact(a, base.id, 'checkpoint'))!.data).toEqual(bytes);
      });

      it('finishes of one trial at once (a retry racing its predecessor, two coordinators) leave only the last artifact\'s chunks', async () => {
        await sweep(compressionPlans(['svd']));
        const base = (await store.claim('wa', LEASE))!;
        const others = multiProcess ? await Promise.all([0, 1].map(() => openDatabase({ url: backend.url, migrate: false, poolMax: 2 }))) : [];
        try {
          const stores = others.length ? others.map((d) => new TrialStore(d, { now: () => new Date(now) }).artifacts) : [store.artifacts, store.artifacts];
          const bytes = new Uint8Array(100).map((_, i) => i);
          for (let round = 0; round < 15; round++) {
            const ups = stores.map((a) => a.newUpload(base.id, 'wa', 1));
            for (const [i, up] of ups.entries()) for (let seq = 0; seq < 2; seq++) expect(await stores[i]!.putChunk(up, seq, bytes)).toBe(true);
            const outcomes = await Promise.all(ups.map((up, i) => stores[i]!.finish(up, 'checkpoint', { sha256: 'x'.repeat(64), size: 200, chunks: 2 })));
            expect(outcomes).toEqual(['ok', 'ok']);
            const winner = (await store.artifacts.info(base.id, 'checkpoint'))!.uploadId;
            expect(ups.map((u) => u.uploadId)).toContain(winner);
            const left = await db.prisma.artifactChunk.findMany({ select: { uploadId: true } });
            expect(left.map((c) => c.uploadId), `round ${round}`).toEqual([winner, winner]);
          }
        } finally {
          await Promise.all(others.map((d) => d.close()));
        }
      });

      it('stores an artifact in chunks: fenced piece by piece, complete only with every piece, the replaced upload deleted', async () => {
        await sweep(compressionPlans(['svd']));
        const base = (await store.claim('wa', LEASE))!;
        const a = store.artifacts;
        const chunkCount = async () => Number((await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "ArtifactChunk"`)[0]!.n);
        const bytes = new Uint8Array(10_000).map((_, i) => (i * 2654435761) >>> 24);
        // Whole, in chunks of 4 KiB (3 of them), read back piece by piece.
        expect(await putArtifact(a, base.id, 'wa', 1, 'checkpoint', bytes, { chunkBytes: 4096 })).toMatchObject({ status: 'ok' });
        const info = (await a.info(base.id, 'checkpoint'))!;
        expect(info).toMatchObject({ chunks: 3, size: 10_000, attempt: 1 });
        const pieces: Uint8Array[] = [];
        for await (const p of a.read(info)) pieces.push(p);
        expect(pieces.map((p) => p.length)).toEqual([4096, 4096, 1808]);
        expect(Buffer.concat(pieces).equals(Buffer.from(bytes))).toBe(true);
        // An upload missing a piece cannot finish; another worker cannot even store a piece.
        const u = a.newUpload(base.id, 'wa', 1);
        expect(await a.putChunk(u, 0, bytes.subarray(0, 5))).toBe(true);
        expect(await a.finish(u, 'checkpoint', { sha256: 'x'.repeat(64), size: 10, chunks: 2 })).toBe('lost');
        expect(await a.putChunk(a.newUpload(base.id, 'wb', 1), 0, bytes)).toBe(false);
        expect(await a.putChunk(a.newUpload(base.id, 'wa', 2), 0, bytes)).toBe(false);
        await a.discard(u);
        expect(await chunkCount()).toBe(3);
        // A second whole upload replaces the first, whose chunks go.
        expect(await putArtifact(a, base.id, 'wa', 1, 'checkpoint', bytes.subarray(0, 100), { chunkBytes: 4096 })).toMatchObject({ status: 'ok' });
        expect(await chunkCount()).toBe(1);
        expect((await getArtifact(a, base.id, 'checkpoint'))!.data).toEqual(bytes.subarray(0, 100));
        // An empty artifact is one empty chunk.
        expect(await putArtifact(a, base.id, 'wa', 1, 'empty', new Uint8Array(0))).toMatchObject({ status: 'ok' });
        expect((await getArtifact(a, base.id, 'empty'))!.data.length).toBe(0);
        expect(await a.holdsLease(base.id, 'wa', 1)).toBe(true);
        expect(await a.holdsLease(base.id, 'wa', 2)).toBe(false);
        expect(await a.holdsLease(base.id, 'wb', 1)).toBe(false);
      });

      it('fails the compression trials and the control of a baseline that failed for good, naming it', async () => {
        const s = await sweep(compressionPlans(['svd', 'groupreduce'], { control: true, maxAttempts: 1 }));
        const base = (await store.claim('wa', LEASE))!;
        expect(await store.claim('wb', LEASE)).toBeNull(); // the control waits for the baseline too
        expect(await store.fail(base.id, 'wa', 1, { kind: 'diverged', error: 'diverged at step 3: loss is NaN', retryable: false })).toBe('failed');
        const rows = await db.prisma.trial.findMany({ where: { sweepId: s.id }, orderBy: { ordinal: 'asc' } });
        expect(rows.map((r) => [r.method, r.status])).toEqual([['dense', 'failed'], ['dense-finetune', 'failed'], ['svd', 'failed'], ['groupreduce', 'failed']]);
        for (const r of rows.slice(1)) expect(r.error).toBe(`its baseline trial ${base.id} (#0) failed: diverged at step 3: loss is NaN`);
        expect((await store.getSweep(s.id))!.status).toBe('failed');
      });

      it('claims round-robin over the running sweeps (the older first on a tie), each in ordinal order; skips cancelled sweeps and backoff', async () => {
        const a = await sweep(plansOf({ 'model.hidden': [1, 2] }), 'a');
        const b = await sweep(plansOf({ 'model.hidden': [1, 2] }), 'b');
        const c = await sweep(plansOf({ 'model.hidden': [1] }), 'c');
        await store.cancelSweep(b.id);
        const wid = await store.upsertWorker({ name: 'w', host: 'h', backend: 'wasm', device: 'cpu', version: '1' });
        const first = (await store.claim(wid, LEASE))!;
        expect(first).toEqual({ id: expect.any(String), sweepId: a.id, attempt: 1, seed: 0, method: 'dense', config: expect.objectContaining({ model: expect.objectContaining({ hidden: 1 }) }) });
        const row = await db.prisma.trial.findUniqueOrThrow({ where: { id: first.id } });
        expect(row).toMatchObject({ status: 'running', attempt: 1, leaseOwner: wid, ordinal: 0 });
        expect(row.leaseExpiresAt?.getTime()).toBe(now + LEASE);
        expect(row.startedAt?.getTime()).toBe(now);
        expect((await db.prisma.worker.findUniqueOrThrow({ where: { id: wid } })).currentTrialId).toBe(first.id);

        // c's first trial takes its turn before a's second
        const second = (await store.claim('w2', LEASE))!;
        expect(second.sweepId).toBe(c.id);
        const third = (await store.claim('w2', LEASE))!;
        expect([third.sweepId, (await db.prisma.trial.findUniqueOrThrow({ where: { id: third.id } })).ordinal]).toEqual([a.id, 1]);
        // third fails retryably: it waits out its backoff, and nothing else is left
        expect(await store.fail(third.id, 'w2', 1, { kind: 'error', error: 'boom', retryable: true })).toBe('requeued');
        expect(await store.claim('w2', LEASE)).toBeNull();
        tick(BASE);
        const again = (await store.claim('w2', LEASE))!;
        expect([again.id, again.attempt]).toEqual([third.id, 2]);
        expect(await store.claim('w3', LEASE)).toBeNull();
      });

      it('the running sweeps take turns, whatever their sizes: a small sweep launched after a large one runs beside it', async () => {
        const first = await sweep(plansOf({ 'model.hidden': [1, 2, 3, 4, 5, 6] }));
        now += 1000;
        const second = await sweep(plansOf({ 'model.hidden': [3, 4] }));
        const got = await store.claimMany(['w1', 'w2', 'w3', 'w4', 'w5', 'w6'], LEASE);
        const rows = await db.prisma.trial.findMany({ select: { id: true, sweepId: true, ordinal: true } });
        const of = new Map(rows.map((r) => [r.id, `${r.sweepId === first.id ? 'first' : r.sweepId === second.id ? 'second' : '?'}#${r.ordinal}`]));
        expect(got.map((t) => of.get(t!.id))).toEqual(['first#0', 'second#0', 'first#1', 'second#1', 'first#2', 'first#3']);
        // A third sweep launched now starts at the queue's current round, beside the first's queued trials, not before them.
        const third = await sweep(plansOf({ 'model.hidden': [7, 8] }), 'third');
        const next = await store.claimMany(['w7', 'w8', 'w9', 'w10'], LEASE);
        const rows2 = await db.prisma.trial.findMany({ select: { id: true, sweepId: true, ordinal: true } });
        const of2 = new Map(rows2.map((r) => [r.id, `${r.sweepId === first.id ? 'first' : r.sweepId === third.id ? 'third' : '?'}#${r.ordinal}`]));
        expect(next.map((t) => of2.get(t!.id))).toEqual(['third#0', 'first#4', 'third#1', 'first#5']);
      });

      it('claimMany serves several workers in one statement, in queue order, null past the end', async () => {
        await sweep(plansOf({ 'model.hidden': [1, 2, 3] }));
        const got = await store.claimMany(['wa', 'wb', 'wa', 'wc', 'wd'], LEASE);
        expect(got.map((t) => t && t.attempt)).toEqual([1, 1, 1, null, null]);
        const rows = await db.prisma.trial.findMany({ orderBy: { ordinal: 'asc' } });
        expect(rows.map((r) => [r.id, r.leaseOwner, r.status])).toEqual([
          [got[0]!.id, 'wa', 'running'],
          [got[1]!.id, 'wb', 'running'],
          [got[2]!.id, 'wa', 'running'],
        ]);
        expect(await store.claimMany(['we'], LEASE)).toEqual([null]);
        expect(await store.claimMany([], LEASE)).toEqual([]);
      });

      it('heartbeatMany extends each lease it holds in one statement: stale beats refused, a repeated lease answered alike', async () => {
        await sweep(plansOf({ 'model.hidden': [1, 2] }));
        const [a, b] = (await store.claimMany(['wa', 'wb'], LEASE)) as [ClaimedTrial, ClaimedTrial];
        const before = await db.prisma.trial.findMany({ orderBy: { ordinal: 'asc' } });
        now += 1000;
        expect(
          await store.heartbeatMany(
            [
              { trialId: a.id, workerId: 'wa', attempt: 1, progress: 0.2 },
              { trialId: b.id, workerId: 'wx', attempt: 1, progress: 0.9 }, // not wx's lease
              { trialId: b.id, workerId: 'wb', attempt: 2, progress: 0.9 }, // not this attempt
              { trialId: a.id, workerId: 'wa', attempt: 1, progress: 0.4 }, // the same lease again: its last progress wins
            ],
            LEASE,
          ),
        ).toEqual([true, false, false, true]);
        const after = await db.prisma.trial.findMany({ orderBy: { ordinal: 'asc' } });
        expect(after.map((t) => t.progress)).toEqual([0.4, 0]);
        expect(after[0]!.leaseExpiresAt!.getTime()).toBe(before[0]!.leaseExpiresAt!.getTime() + 1000);
        expect(after[1]!.leaseExpiresAt!.getTime()).toBe(before[1]!.leaseExpiresAt!.getTime());
        expect(await store.heartbeatMany([], LEASE)).toEqual([]);
      });

      it('addMetricsMany and completeMany answer each report on its own, fenced as one by one', async () => {
        const s = await sweep(plansOf({ 'model.hidden': [1, 2, 3] }));
        const [a, b, c] = (await store.claimMany(['wa', 'wb', 'wc'], LEASE)) as [ClaimedTrial, ClaimedTrial, ClaimedTrial];
        const pt = (step: number, value: number): MetricPoint => ({ step, epoch: 0, name: 'train_loss', value });
        expect(
          await store.addMetricsMany([
            { trialId: a.id, workerId: 'wa', attempt: 1, points: [pt(1, 3), pt(2, NaN)] },
            { trialId: b.id, workerId: 'wx', attempt: 1, points: [pt(1, 9)] }, // not wx's lease
            { trialId: a.id, workerId: 'wa', attempt: 1, points: [pt(2, NaN), pt(3, 1)] }, // a resend overlapping the first
          ]),
        ).toEqual([true, false, true]);
        const stored = await db.prisma.trialMetric.findMany({ orderBy: [{ trialId: 'asc' }, { step: 'asc' }] });
        expect(stored.map((m) => [m.trialId, m.step, m.value])).toEqual([
          [a.id, 1, 3],
          [a.id, 2, NaN],
          [a.id, 3, 1],
        ]);
        expect(
          await store.completeMany([
            { trialId: a.id, workerId: 'wa', attempt: 1, result: result(10) },
            { trialId: b.id, workerId: 'wx', attempt: 1, result: result(11) },
            { trialId: a.id, workerId: 'wa', attempt: 1, result: result(10) },
            { trialId: c.id, workerId: 'wc', attempt: 1, result: result(12) },
          ]),
        ).toEqual(['ok', 'lost', 'duplicate', 'ok']);
        expect(await store.completeMany([{ trialId: a.id, workerId: 'wa', attempt: 1, result: result(10) }])).toEqual(['duplicate']);
        expect((await store.getSweep(s.id))!.status).toBe('running');
        expect(await store.complete(b.id, 'wb', 1, result(11))).toBe('ok');
        expect((await store.getSweep(s.id))!.status).toBe('succeeded');
        const rows = await db.prisma.trial.findMany({ orderBy: { ordinal: 'asc' } });
        expect(rows.map((r) => [r.status, r.validPpl, r.params])).toEqual([
          ['succeeded', 10, 1000],
          ['succeeded', 11, 1000],
          ['succeeded', 12, 1000],
        ]);
      });

      it('never hands one trial to two claimers under concurrency', async () => {
        const plans = plansOf({ 'model.hidden': Array.from({ length: 50 }, (_, i) => i + 1) }, 4);
        expect(plans.length).toBe(200);
        await sweep(plans);
        // A server: 20 claimers over 4 extra Db handles (20 connections), as 20 processes would.
        // PGlite: one connection, 20 interleaved claimers.
        const extra = multiProcess ? await Promise.all([0, 1, 2, 3].map(() => openDatabase({ url: backend.url, migrate: false, poolMax: 5 }))) : [];
        try {
          const stores = extra.length ? extra.map((d) => new TrialStore(d, { now: () => new Date(now) })) : [store];
          const claimed: string[] = [];
          const perWorker = new Map<string, number>();
          await Promise.all(
            Array.from({ length: 20 }, async (_, i) => {
              const s = stores[i % stores.length]!;
              const w = `w${i}`;
              for (;;) {
                const t = await s.claim(w, LEASE);
                if (!t) return;
                claimed.push(t.id);
                perWorker.set(w, (perWorker.get(w) ?? 0) + 1);
              }
            }),
          );
          expect(claimed.length).toBe(200);
          expect(new Set(claimed).size).toBe(200);
          const rows = await db.prisma.trial.findMany({ select: { status: true, attempt: true } });
          expect(rows.every((r) => r.status === 'running' && r.attempt === 1)).toBe(true);
          if (multiProcess) expect(perWorker.size).toBeGreaterThan(1);
        } finally {
          for (const d of extra) await d.close();
        }
      });

      it('fences a stale worker out after its lease expired and another claimed the trial', async () => {
        await sweep(plansOf({}));
        const a = (await store.claim('wa', LEASE))!;
        expect(await store.heartbeat(a.id, 'wa', 1, 0.3, LEASE)).toBe(true);
        tick(LEASE + 1);
        expect(await store.reapExpired()).toEqual({ requeued: [a.id], failed: [] });
        tick(BASE);
        const b = (await store.claim('wb', LEASE))!;
        expect([b.id, b.attempt]).toEqual([a.id, 2]);

        expect(await store.heartbeat(a.id, 'wa', 1, 0.9, LEASE)).toBe(false);
        expect(await store.addMetrics(a.id, 'wa', 1, [{ step: 5, epoch: 0, name: 'loss', value: 1 }])).toBe(false);
        expect(await store.complete(a.id, 'wa', 1, result(50))).toBe('lost');
        expect(await store.fail(a.id, 'wa', 1, { kind: 'error', error: 'x', retryable: true })).toBe('lost');
        expect(await store.release(a.id, 'wa', 1, 'bye')).toBe(false);
        // right worker, wrong attempt; right attempt, wrong worker
        expect(await store.heartbeat(a.id, 'wb', 1, 0.9, LEASE)).toBe(false);
        expect(await store.heartbeat(a.id, 'wa', 2, 0.9, LEASE)).toBe(false);

        const row = await db.prisma.trial.findUniqueOrThrow({ where: { id: a.id } });
        expect(row).toMatchObject({ status: 'running', attempt: 2, leaseOwner: 'wb', validPpl: null });
        expect(row.progress).toBe(0);
        expect(await db.prisma.trialMetric.count()).toBe(0);

        tick(LEASE / 2);
        expect(await store.heartbeat(a.id, 'wb', 2, 0.5, LEASE)).toBe(true);
        const extended = await db.prisma.trial.findUniqueOrThrow({ where: { id: a.id } });
        expect(extended.leaseExpiresAt?.getTime()).toBe(now + LEASE);
        expect(extended.progress).toBe(0.5);
        tick(LEASE - 1);
        expect(await store.reapExpired()).toEqual({ requeued: [], failed: [] }); // the heartbeat kept it alive
        expect(await store.complete(a.id, 'wb', 2, result(50))).toBe('ok');
      });

      it('requeues expired leases with backoff, then fails them when attempts run out', async () => {
        const s = await sweep(plansOf({}, 1, 2));
        await store.upsertWorker({ id: 'w1', name: 'w1', host: 'h', backend: 'wasm', device: 'cpu', version: '1' });
        const a = (await store.claim('w1', LEASE))!;
        tick(LEASE); // not yet: expiry is strict
        expect(await store.reapExpired()).toEqual({ requeued: [], failed: [] });
        tick(1);
        // two reapers at once (two coordinators): each expired trial is reaped exactly once
        const store2 = new TrialStore(db, { now: () => new Date(now), backoffBaseMs: BASE });
        const [r1, r2] = await Promise.all([store.reapExpired(), store2.reapExpired()]);
        expect([...r1.requeued, ...r2.requeued]).toEqual([a.id]);
        let row = await db.prisma.trial.findUniqueOrThrow({ where: { id: a.id } });
        expect(row).toMatchObject({ status: 'queued', attempt: 1, leaseExpiresAt: null });
        expect(row.notBefore?.getTime()).toBe(now + store.backoffMs(1));
        expect(row.error).toMatch(/lease expired \(attempt 1, worker w1\)/);
        expect((await db.prisma.worker.findUniqueOrThrow({ where: { id: 'w1' } })).currentTrialId).toBeNull();

        tick(BASE - 1);
        expect(await store.claim('w2', LEASE)).toBeNull();
        tick(1);
        const b = (await store.claim('w2', LEASE))!;
        expect(b.attempt).toBe(2);
        tick(LEASE + 1);
        expect(await store.reapExpired()).toEqual({ requeued: [], failed: [a.id] });
        row = await db.prisma.trial.findUniqueOrThrow({ where: { id: a.id } });
        expect(row.status).toBe('failed');
        expect(row.error).toBe('lease expired after 2 attempts (last worker w2)');
        expect(row.finishedAt?.getTime()).toBe(now);
        const sw = await store.getSweep(s.id);
        expect(sw?.status).toBe('failed'); // its only trial failed
        expect(sw?.finishedAt?.getTime()).toBe(now);
        // the backoff doubles per attempt and is capped
        expect([1, 2, 3].map((n) => store.backoffMs(n))).toEqual([BASE, 2 * BASE, 4 * BASE]);
        expect(store.backoffMs(30)).toBe(60_000);
      });

      it('the reaper backoff in SQL matches retryBackoffMs for later attempts', async () => {
        await sweep(plansOf({}, 1, 10));
        for (let attempt = 1; attempt <= 4; attempt++) {
          const c = (await store.claim('w', LEASE))!;
          expect(c.attempt).toBe(attempt);
          tick(LEASE + 1);
          await store.reapExpired();
          const row = await db.prisma.trial.findUniqueOrThrow({ where: { id: c.id } });
          expect(row.notBefore!.getTime() - now).toBe(store.backoffMs(attempt));
          tick(store.backoffMs(attempt));
        }
      });

      it('a resent complete is a duplicate and changes nothing', async () => {
        await sweep(plansOf({ 'model.hidden': [1, 2] }));
        await store.upsertWorker({ id: 'w1', name: 'w1', host: 'h', backend: 'wasm', device: 'cpu', version: '1' });
        const c = (await store.claim('w1', LEASE))!;
        tick(5);
        expect(await store.complete(c.id, 'w1', c.attempt, result(90, 500))).toBe('ok');
        const before = await db.prisma.trial.findUniqueOrThrow({ where: { id: c.id } });
        expect(before).toMatchObject({ status: 'succeeded', validPpl: 90, testPpl: 90 * 0.95, params: 500, seconds: 2.5, progress: 1, leaseExpiresAt: null });
        expect(before.finishedAt?.getTime()).toBe(now);
        expect((before.result as { backend: string }).backend).toBe('wasm');
        expect((await db.prisma.worker.findUniqueOrThrow({ where: { id: 'w1' } })).currentTrialId).toBeNull();
        tick(5);
        expect(await store.complete(c.id, 'w1', c.attempt, result(70, 400))).toBe('duplicate');
        expect(await store.complete(c.id, 'other', c.attempt, result(70, 400))).toBe('lost');
        expect(await store.fail(c.id, 'w1', c.attempt, { kind: 'error', error: 'late', retryable: true })).toBe('lost');
        expect(await db.prisma.trial.findUniqueOrThrow({ where: { id: c.id } })).toEqual(before);
        expect((await store.listTrials({ status: 'succeeded' })).total).toBe(1);
      });

      it('keeps metrics per attempt, ignores duplicates, stores NaN and infinities', async () => {
        await sweep(plansOf({}));
        const a = (await store.claim('wa', LEASE))!;
        const pts = (vals: number[], name = 'train_loss'): MetricPoint[] => vals.map((value, step) => ({ step, epoch: step / 10, name, value }));
        expect(await store.addMetrics(a.id, 'wa', 1, pts([5, 4, 3]))).toBe(true);
        expect(await store.addMetrics(a.id, 'wa', 1, pts([5, 4, 3]))).toBe(true); // resent batch: ignored
        expect(await store.addMetrics(a.id, 'wa', 1, [{ step: 0, epoch: 0, name: 'valid_ppl', value: 300 }])).toBe(true);
        tick(LEASE + 1);
        await store.reapExpired();
        tick(BASE);
        const b = (await store.claim('wb', LEASE))!;
        expect(b.attempt).toBe(2);
        const weird = [NaN, Infinity, -Infinity, 1e-300, 2.5];
        expect(await store.addMetrics(b.id, 'wb', 2, pts(weird))).toBe(true);
        expect(await db.prisma.trialMetric.count()).toBe(3 + 1 + 5);
        const t = (await store.getTrial(a.id))!;
        expect(t.curves.map((c) => [c.attempt, c.name, c.points.length])).toEqual([
          [1, 'train_loss', 3],
          [1, 'valid_ppl', 1],
          [2, 'train_loss', 5],
        ]);
        expect(t.curves[0]!.points.map((p) => p.value)).toEqual([5, 4, 3]);
        const vals = t.curves[2]!.points.map((p) => p.value);
        expect(Number.isNaN(vals[0])).toBe(true);
        expect(vals.slice(1)).toEqual([Infinity, -Infinity, 1e-300, 2.5]);
        expect(t.curves[2]!.points[3]).toEqual({ step: 3, epoch: 0.3, value: 1e-300, time: new Date(now) });
      });

      it('fail: retryable requeues with backoff, otherwise (or out of attempts) fails with the reason', async () => {
        const s = await sweep(plansOf({ 'model.hidden': [1, 2] }, 1, 2));
        const a = (await store.claim('w', LEASE))!;
        expect(await store.fail(a.id, 'w', 1, { kind: 'oom', error: 'out of memory allocating 4 GB', retryable: true })).toBe('requeued');
        let row = await db.prisma.trial.findUniqueOrThrow({ where: { id: a.id } });
        expect(row).toMatchObject({ status: 'queued', attempt: 1, error: 'oom: out of memory allocating 4 GB', leaseExpiresAt: null });
        expect(row.notBefore?.getTime()).toBe(now + BASE);

        const b = (await store.claim('w', LEASE))!; // the other trial (a is backing off)
        expect(b.id).not.toBe(a.id);
        expect(await store.fail(b.id, 'w', 1, { kind: 'diverged', error: 'diverged at step 12: loss is NaN', retryable: false })).toBe('failed');
        row = await db.prisma.trial.findUniqueOrThrow({ where: { id: b.id } });
        expect(row).toMatchObject({ status: 'failed', error: 'diverged at step 12: loss is NaN' });
        expect(row.finishedAt?.getTime()).toBe(now);

        tick(BASE);
        const a2 = (await store.claim('w', LEASE))!;
        expect([a2.id, a2.attempt]).toEqual([a.id, 2]);
        expect(await store.fail(a.id, 'w', 2, { kind: 'error', error: 'boom', retryable: true })).toBe('failed'); // attempts used up
        expect((await db.prisma.trial.findUniqueOrThrow({ where: { id: a.id } })).error).toBe('boom');
        expect((await store.getSweep(s.id))?.status).toBe('failed');
      });

      it('release requeues at once without using up an attempt', async () => {
        await sweep(plansOf({}, 1, 1));
        const a = (await store.claim('w1', LEASE))!;
        expect(await store.release(a.id, 'w1', 1, 'SIGINT')).toBe(true);
        expect(await store.release(a.id, 'w1', 1, 'SIGINT')).toBe(false); // resent: the lease is gone
        let row = await db.prisma.trial.findUniqueOrThrow({ where: { id: a.id } });
        expect(row).toMatchObject({ status: 'queued', attempt: 1, maxAttempts: 2, notBefore: null, leaseExpiresAt: null });
        const b = (await store.claim('w2', LEASE))!; // claimable at once
        expect([b.id, b.attempt]).toEqual([a.id, 2]);
        // maxAttempts 1 + 1 for the release: attempt 2 is the last one
        expect(await store.fail(b.id, 'w2', 2, { kind: 'error', error: 'boom', retryable: true })).toBe('failed');
        row = await db.prisma.trial.findUniqueOrThrow({ where: { id: a.id } });
        expect(row.status).toBe('failed');
      });

      it('cancelSweep cancels queued and running trials and names the running ones', async () => {
        const s = await sweep(plansOf({ 'model.hidden': [1, 2, 3, 4] }));
        await store.upsertWorker({ id: 'w1', name: 'w1', host: 'h', backend: 'wasm', device: 'cpu', version: '1' });
        const done = (await store.claim('w1', LEASE))!;
        await store.complete(done.id, 'w1', 1, result(100));
        const r1 = (await store.claim('w1', LEASE))!;
        const r2 = (await store.claim('w2', LEASE))!;
        const other = await sweep(plansOf({ 'model.hidden': [1] }), 'other');
        const changes: Change[] = [];
        const unlisten = await db.listen((c) => changes.push(c));
        try {
          const res = await store.cancelSweep(s.id);
          expect(res.cancelled).toBe(3);
          expect(res.running.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
            [
              { id: r1.id, attempt: 1, leaseOwner: 'w1' },
              { id: r2.id, attempt: 1, leaseOwner: 'w2' },
            ].sort((x, y) => x.id.localeCompare(y.id)),
          );
          await waitFor(() => changes.some((c) => c.kind === 'sweep' && c.id === s.id));
          await waitFor(() => changes.filter((c) => c.kind === 'trial' && c.status === 'cancelled').length === 2);
        } finally {
          await unlisten();
        }
        const sw = (await store.getSweep(s.id))!;
        expect(sw.status).toBe('cancelled');
        expect(sw.finishedAt?.getTime()).toBe(now);
        expect(sw.counts).toMatchObject({ succeeded: 1, cancelled: 3, queued: 0, running: 0 });
        expect((await db.prisma.worker.findUniqueOrThrow({ where: { id: 'w1' } })).currentTrialId).toBeNull();
        expect(await store.complete(r1.id, 'w1', 1, result(100))).toBe('lost');
        expect(await store.heartbeat(r2.id, 'w2', 1, 0.5, LEASE)).toBe(false);
        const next = (await store.claim('w1', LEASE))!; // only the other sweep is left
        expect(next.sweepId).toBe(other.id);
        expect(await store.cancelSweep(s.id)).toEqual({ cancelled: 0, running: [] });
        expect((await store.getSweep(s.id))!.status).toBe('cancelled');
        expect(await store.refreshSweepStatus(s.id)).toBeNull();
      });

      it('refreshSweepStatus finishes a sweep when nothing is queued or running', async () => {
        const s = await sweep(plansOf({ 'model.hidden': [1, 2] }));
        expect(await store.refreshSweepStatus(s.id)).toBeNull();
        const a = (await store.claim('w', LEASE))!;
        const b = (await store.claim('w', LEASE))!;
        await store.fail(a.id, 'w', 1, { kind: 'diverged', error: 'diverged at step 3: loss is Infinity', retryable: false });
        expect((await store.getSweep(s.id))!.status).toBe('running');
        tick(7);
        expect(await store.complete(b.id, 'w', 1, result(100))).toBe('ok'); // complete refreshes it itself
        const sw = (await store.getSweep(s.id))!;
        expect(sw.status).toBe('succeeded'); // one success is enough
        expect(sw.finishedAt?.getTime()).toBe(now);
        expect(await store.refreshSweepStatus(s.id)).toBeNull();

        const empty = await sweep([], 'empty');
        expect(await store.refreshSweepStatus(empty.id)).toBe('succeeded');
        expect(await store.refreshSweepStatus('missing')).toBeNull();
        // a sweep whose trials were all failed (e.g. by hand) becomes failed
        const f = await sweep(plansOf({ 'model.hidden': [1, 2] }), 'f');
        await db.prisma.trial.updateMany({ where: { sweepId: f.id }, data: { status: 'failed' } });
        expect(await store.refreshSweepStatus(f.id)).toBe('failed');
      });
    });

    describe('impossible results', () => {
      /** Claims the next trial and completes it with this validation perplexity. */
      const done = async (ppl: number) => {
        const t = (await store.claim('w', LEASE))!;
        expect(await store.complete(t.id, 'w', t.attempt, result(ppl))).toBe('ok');
        return t.id;
      };
      it('flags the seed far below every other seed of its configuration, whichever arrives first, and clears it when other seeds agree with it', async () => {
        // Two configurations of 4 seeds: only configuration a gets the suspect value.
        await sweep(plansOf({ 'model.hidden': [1, 2] }, 4));
        const flags = async () => (await store.listTrials({ status: 'succeeded' })).items.map((t) => [t.validPpl, t.flag ? t.flag.split(' ').slice(0, 2).join(' ') : null]);
        const fake = await done(1.5); // first: nothing to compare with yet
        expect(await flags()).toEqual([[1.5, null]]);
        await done(100);
        expect(await flags()).toEqual([[1.5, 'validPpl 1.5'], [100, null]]);
        await done(120);
        expect((await store.getTrial(fake))!.flag).toMatch(/^validPpl 1\.5 is under 0\.5× every other seed of its configuration \(the lowest of them: 100\)$/);
        // Not far below every other seed any more: a fourth seed near it clears the flag (two of four agree).
        await done(1.6);
        expect(await flags()).toEqual([[1.5, null], [100, null], [120, null], [1.6, null]]);
        // Configuration b: a test perplexity far below the others is flagged too; honest seeds never are.
        const ts = [];
        for (const v of [80, 82, 81]) ts.push(await done(v));
        const t = (await store.claim('w', LEASE))!;
        expect(await store.complete(t.id, 'w', t.attempt, { ...result(81), testPpl: 20 })).toBe('ok');
        expect((await store.getTrial(t.id))!.flag).toMatch(/^testPpl 20 is under 0\.5× every other seed/);
        for (const id of ts) expect((await store.getTrial(id))!.flag).toBeNull();
        // The leaderboard aggregates the unflagged seeds and lists the flagged one apart.
        const groups = await store.leaderboardGroups();
        const b = groups.find((g) => g.validPpl.includes(80))!;
        expect([b.seeds.length, b.flagged.map((f) => [f.trialId, f.testPpl])]).toEqual([3, [[t.id, 20]]]);
        expect(groups.find((g) => g.validPpl.includes(100))!.flagged).toEqual([]);
      });

      it('a good seed whose other seeds diverged is in line with the sweep, and stays unflagged; a fake there is still flagged', async () => {
        // Configuration a trains well; b trained once and stalled near the unigram perplexity twice (the PHM study's low-rank runs).
        await sweep(plansOf({ 'model.hidden': [1, 2] }, 4));
        for (const v of [180, 182, 179, 181]) await done(v);
        const good = await done(300);
        await done(713);
        await done(715);
        expect((await store.getTrial(good))!.flag).toBeNull(); // 300 < 0.5 × 713, but not under half the sweep's 180.5
        const fake = await done(2);
        expect((await store.getTrial(fake))!.flag).toBe("validPpl 2 is under 0.5× every other seed of its configuration (the lowest of them: 300) and the median of the sweep's other configurations (180.5)");
        expect((await store.getTrial(good))!.flag).toBeNull();
      });

      it('a seed whose parameters disagree with its configuration is flagged, and a flagged seed never sets the configuration\'s parameters', async () => {
        await sweep(plansOf({}, 4));
        const done = async (r: ReturnType<typeof result>) => {
          const t = (await store.claim('w', LEASE))!;
          expect(await store.complete(t.id, 'w', t.attempt, r)).toBe('ok');
          return t.id;
        };
        for (const v of [100, 101]) await done(result(v));
        // A fake: far below the others and claiming a tiny model.
        const fake = await done({ ...result(1.0), params: 1 });
        expect((await store.getTrial(fake))!.flag).toMatch(/^validPpl 1 is under/);
        let [g] = await store.leaderboardGroups();
        expect([g!.params, g!.seeds.length]).toEqual([result(100).params, 2]);
        // Plausible perplexity, wrong size: two agreeing seeds outvote it.
        const odd = await done({ ...result(100.5), params: 7 });
        expect((await store.getTrial(odd))!.flag).toBe(`params 7 differ from most other seeds of its configuration (${result(100).params})`);
        [g] = await store.leaderboardGroups();
        expect([g!.params, g!.seeds.length, g!.flagged.length]).toEqual([result(100).params, 2, 2]);
      });

      it('a completion retried after its first try committed (the group commit splits a failed batch) still flags and finishes the sweep', async () => {
        const s = await sweep(plansOf({}, 3));
        const ids: string[] = [];
        for (const v of [100, 101, 1.5]) {
          const t = (await store.claim('w', LEASE))!;
          expect(await store.complete(t.id, 'w', t.attempt, result(v))).toBe('ok');
          ids.push(t.id);
        }
        expect((await store.getSweep(s.id))!.status).toBe('succeeded');
        // As if what follows the UPDATE (flags, sweep status) had failed after it committed.
        await db.prisma.trial.updateMany({ where: { sweepId: s.id }, data: { flag: null } });
        await db.prisma.sweep.update({ where: { id: s.id }, data: { status: 'running', finishedAt: null } });
        expect(await store.complete(ids[2]!, 'w', 1, result(1.5))).toBe('duplicate');
        expect((await store.getTrial(ids[2]!))!.flag).toMatch(/^validPpl 1\.5 is under/);
        expect((await store.getSweep(s.id))!.status).toBe('succeeded');
      });
    });

    describe('workers', () => {
      it("a worker's Slurm job is kept with it; job arrays are recorded (again: replaced), listed newest first, marked cancelled once", async () => {
        const a = (await store.registerWorker({ name: 'slurm-41_0', host: 'n1', backend: 'wasm', device: 'cpu', version: '1', slurmJob: '41_0' }))!;
        expect((await store.listWorkers()).find((w) => w.id === a.id)?.slurmJob).toBe('41_0');
        // Reconnecting from another job (Slurm requeued the task) says so; outside Slurm, none.
        await store.registerWorker({ id: a.id, name: 'slurm-41_0', host: 'n2', backend: 'wasm', device: 'cpu', version: '1', slurmJob: '42_0' }, a.key);
        expect((await store.listWorkers()).find((w) => w.id === a.id)?.slurmJob).toBe('42_0');
        const job = (id: string, workers: number) => ({ id, workers, partition: 'gpu', account: null, timeLimit: '1:00:00', cpusPerWorker: 4, gpusPerWorker: 1, logDir: '/shared/logs' });
        await store.recordSlurmJob(job('41', 2));
        tick(1000);
        await store.recordSlurmJob(job('42', 1));
        await store.recordSlurmJob(job('42', 3)); // a retried record
        expect((await store.listSlurmJobs()).map((j) => [j.id, j.workers, j.cancelledAt])).toEqual([
          ['42', 3, null],
          ['41', 2, null],
        ]);
        expect(await store.slurmJobsCancelled(['41', '99'])).toEqual(['41']);
        const cancelledAt = (await store.listSlurmJobs()).find((j) => j.id === '41')!.cancelledAt;
        expect(cancelledAt?.getTime()).toBe(now);
        tick(5000);
        await store.slurmJobsCancelled(['41']); // once: the first time stays
        expect((await store.listSlurmJobs()).find((j) => j.id === '41')!.cancelledAt?.getTime()).toBe(cancelledAt!.getTime());
        expect((await store.listSlurmJobs(1)).map((j) => j.id)).toEqual(['42']);
      });

      it('registers, revives on reconnect, tracks the current trial, and shows stale workers as disconnected', async () => {
        await sweep(plansOf({}));
        const id = await store.upsertWorker({ name: 'gpu-box', host: 'h1', backend: 'wasm', device: 'cpu', version: '0.1.0' });
        expect(id).toMatch(/^w_[0-9a-z]+$/);
        const t = (await store.claim(id, LEASE))!;
        let [w] = await store.listWorkers();
        expect(w).toMatchObject({ id, name: 'gpu-box', connected: true, stale: false, currentTrial: { id: t.id, attempt: 1, progress: 0 } });
        tick(1000);
        await store.heartbeat(t.id, id, 1, 0.25, LEASE);
        await store.workerSeen(id, { progress: 0.25, currentTrialId: t.id });
        [w] = await store.listWorkers();
        expect(w!.lastHeartbeat.getTime()).toBe(now);
        expect(w!.progress).toBe(0.25);
        expect(w!.currentTrial?.progress).toBe(0.25);

        await store.workerDisconnected(id);
        [w] = await store.listWorkers();
        expect(w!.connected).toBe(false);
        tick(1000);
        expect(await store.upsertWorker({ id, name: 'gpu-box', host: 'h2', backend: 'wasm', device: 'cpu', version: '0.1.1' })).toBe(id);
        [w] = await store.listWorkers();
        expect(w).toMatchObject({ id, host: 'h2', version: '0.1.1', connected: true });
        expect(w!.connectedAt.getTime()).toBe(now);
        expect(await db.prisma.worker.count()).toBe(1);

        await store.workerSeen(id, { currentTrialId: null, progress: null });
        expect((await store.listWorkers())[0]).toMatchObject({ currentTrialId: null, progress: null, currentTrial: null });

        const other = await store.upsertWorker({ name: 'b', host: 'h', backend: 'wasm', device: 'cpu', version: '1' });
        tick(3 * 30_000 + 1);
        await store.workerSeen(other);
        const list = await store.listWorkers();
        expect(list.map((x) => [x.id, x.connected, x.stale])).toEqual([
          [other, true, false],
          [id, false, true],
        ]);
      });
    });

    const harness = {
      multiProcess,
      db: () => db,
      store: () => store,
      backend: () => backend,
      now: () => now,
      tick,
      sweep: async (plans: TrialPlan[], name = 'sw', grows = false) => {
        const s = await store.createSweep({ name, spec: { name }, specText: `name: ${name}`, plans, grows });
        tick(1);
        return s;
      },
    };
    growthTests(harness);
    pruningTests(harness);

    describe('live changes', () => {
      it('listen() delivers a change after each write, through the database', async () => {
        const got: Change[] = [];
        const unlisten = await db.listen((c) => got.push(c));
        const s = await sweep(plansOf({}));
        await waitFor(() => got.some((c) => c.kind === 'sweep' && c.id === s.id));
        expect(got.find((c) => c.kind === 'sweep')).toEqual({ kind: 'sweep', id: s.id, status: 'running' });
        const c = (await store.claim('w', LEASE))!;
        await waitFor(() => got.some((x) => x.kind === 'trial' && x.id === c.id));
        expect(got.find((x) => x.kind === 'trial')).toEqual({ kind: 'trial', id: c.id, sweepId: s.id, status: 'running' });
        await store.addMetrics(c.id, 'w', 1, [{ step: 1, epoch: 0, name: 'loss', value: 2 }]);
        await store.complete(c.id, 'w', 1, result(10));
        await waitFor(() => got.some((x) => x.kind === 'sweep' && x.status === 'succeeded'));
        expect(got.some((x) => x.kind === 'metric' && x.id === c.id && x.sweepId === s.id)).toBe(true);
        expect(got.some((x) => x.kind === 'trial' && x.id === c.id && x.status === 'succeeded')).toBe(true);
        await unlisten();
        const n = got.length;
        await store.upsertWorker({ name: 'late', host: 'h', backend: 'wasm', device: 'cpu', version: '1' });
        await new Promise((r) => setTimeout(r, 100));
        expect(got.length).toBe(n);
      });
    });
  });
}
