// The storage suite on PGlite (in memory; fresh databases in temp data dirs), plus the PGlite
// migrator's failure handling on one in-memory instance.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR, migratePglite, readMigrations } from './migrate.ts';
import { openDatabase } from './database.ts';
import { TrialStore } from './trial-store.ts';
import { pgliteBackend, storageSuite } from './storage-suite.ts';
import { getArtifact } from './testing.ts';

storageSuite('PGlite', { multiProcess: false, setup: async () => pgliteBackend() });

describe('PGlite migrator', () => {
  it('reads committed migrations in order with the sha256 of their bytes', () => {
    const files = readMigrations();
    expect(files[0]!.name).toBe('20261123000000_init');
    const bytes = readFileSync(path.join(DEFAULT_MIGRATIONS_DIR, files[0]!.name, 'migration.sql'));
    expect(files[0]!.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(() => readMigrations('/nonexistent/migrations')).toThrow(/does not exist/);
  });

  it('a failing migration leaves nothing behind; an unresolved failed one blocks', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-migs-'));
    const lite = new PGlite({ dataDir: 'memory://' });
    try {
      mkdirSync(path.join(dir, '20990101000000_bad'));
      writeFileSync(path.join(dir, '20990101000000_bad', 'migration.sql'), 'CREATE TABLE "Half" (id int);\nSELECT no_such_function();\n');
      const init = readMigrations();
      await expect(migratePglite(lite, [...init, ...readMigrations(dir)])).rejects.toThrow(/20990101000000_bad failed/);
      expect(await migratePglite(lite, init)).toEqual([]); // init went in before the bad one
      expect((await lite.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'Half'`)).rows).toEqual([{ n: 0 }]);
      expect((await lite.query(`SELECT count(*)::int AS n FROM _prisma_migrations`)).rows).toEqual([{ n: init.length }]);
      await lite.query(`INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ('x', 'y', '20990101000001_crashed')`);
      await expect(migratePglite(lite, init)).rejects.toThrow(/20990101000001_crashed failed earlier/);
    } finally {
      await lite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queue order: the migrations number the trials already there by sweep creation, then ordinal, and give each sweep\'s queued trials its turns', async () => {
    const lite = new PGlite({ dataDir: 'memory://' });
    try {
      const all = readMigrations();
      const at = all.findIndex((m) => m.name === '20261201000000_queue_order');
      expect(at).toBeGreaterThan(0);
      await migratePglite(lite, all.slice(0, at));
      // Two sweeps, the later-created one inserted first, ordinals out of insertion order.
      await lite.exec(`
        INSERT INTO "Sweep" (id, name, spec, "specText", status, "createdAt") VALUES
          ('s_late', 'late', '{}', '', 'running', '2026-11-02'), ('s_early', 'early', '{}', '', 'running', '2026-11-01');
        INSERT INTO "Trial" (id, "sweepId", ordinal, "configKey", config, method, seed) VALUES
          ('t_l1', 's_late', 1, 'k', '{}', 'dense', 0), ('t_l0', 's_late', 0, 'k', '{}', 'dense', 0),
          ('t_e1', 's_early', 1, 'k', '{}', 'dense', 0), ('t_e0', 's_early', 0, 'k', '{}', 'dense', 0);`);
      const fair = all.findIndex((m) => m.name === '20261220000000_sweeps_grow');
      expect(fair).toBeGreaterThan(at);
      await migratePglite(lite, all.slice(0, fair));
      await lite.exec(`
        INSERT INTO "Trial" (id, "sweepId", ordinal, "configKey", config, method, seed) VALUES ('t_e2', 's_early', 2, 'k', '{}', 'dense', 0);
        INSERT INTO "Trial" (id, "sweepId", ordinal, "configKey", config, method, seed, status) VALUES ('t_e3', 's_early', 3, 'k', '{}', 'dense', 0, 'succeeded');`);
      const seq = (await lite.query<{ id: string }>(`SELECT id FROM "Trial" ORDER BY "queueSeq"`)).rows;
      expect(seq.map((r) => r.id)).toEqual(['t_e0', 't_e1', 't_l0', 't_l1', 't_e2', 't_e3']);
      await migratePglite(lite, all);
      // Each sweep's queued trials take rounds 0, 1, … in their old order; the others are past their turn.
      const rounds = (await lite.query<{ id: string; queueRound: number }>(`SELECT id, "queueRound" FROM "Trial" ORDER BY "queueRound", "queueSeq"`)).rows;
      expect(rounds.map((r) => [r.id, r.queueRound])).toEqual([['t_e0', 0], ['t_l0', 0], ['t_e3', 0], ['t_e1', 1], ['t_l1', 1], ['t_e2', 2]]);
      const idx = (await lite.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'Trial_queued_queueRound_idx'`)).rows;
      expect(idx[0]?.indexdef).toMatch(/\("queueRound", "queueSeq"\) WHERE \(status = 'queued'::"TrialStatus"\)/);
      expect((await lite.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'Trial_queued_queueSeq_idx'`)).rows).toEqual([]);
      expect((await lite.query(`SELECT grows, extensions FROM "Sweep" WHERE id = 's_early'`)).rows).toEqual([{ grows: false, extensions: [] }]);
    } finally {
      await lite.close();
    }
  });

  it('artifact chunks: a checkpoint stored whole before the migration reads back the same after it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-chunks-'));
    try {
      const all = readMigrations();
      const at = all.findIndex((m) => m.name === '20261210000000_artifact_chunks');
      expect(at).toBeGreaterThan(0);
      const lite = new PGlite({ dataDir: dir });
      const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 255));
      try {
        await migratePglite(lite, all.slice(0, at));
        await lite.exec(`
          INSERT INTO "Sweep" (id, name, spec, "specText") VALUES ('s', 's', '{}', '');
          INSERT INTO "Trial" (id, "sweepId", ordinal, "configKey", config, method, seed) VALUES ('t', 's', 0, 'k', '{}', 'dense', 0);
          INSERT INTO "Artifact" ("trialId", name, attempt, sha256, size, base64) VALUES ('t', 'checkpoint', 1, 'abc', 5000, '${bytes.toString('base64')}');`);
      } finally {
        await lite.close();
      }
      const db = await openDatabase({ url: dir });
      try {
        const got = await getArtifact(new TrialStore(db), 't', 'checkpoint');
        expect(got).toMatchObject({ attempt: 1, sha256: 'abc', size: 5000 });
        expect(Buffer.from(got!.data).equals(bytes)).toBe(true);
      } finally {
        await db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
