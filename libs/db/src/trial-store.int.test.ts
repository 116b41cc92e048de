// The storage suite on a real PostgreSQL server (initdb + pg_ctl on a temp dir, see testing.ts),
// plus what only a server has: a LISTEN connection that drops and comes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { type Change, openDatabase } from './database.ts';
import { storageSuite } from './storage-suite.ts';
import { startPostgres, type TestPostgres } from './testing.ts';
import { TrialStore } from './trial-store.ts';

storageSuite('PostgreSQL server', { multiProcess: true, setup: async () => {
  const server = await startPostgres();
  return {
    url: await server.createDatabase(),
    freshUrl: () => server.createDatabase(),
    teardown: () => server.stop(),
  };
} });

describe('PostgreSQL server: LISTEN connection', () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('reconnects when the LISTEN connection is killed, and says so', async () => {
    const url = await server.createDatabase();
    const db = await openDatabase({ url });
    const store = new TrialStore(db);
    const got: Change[] = [];
    let reconnects = 0;
    const unlisten = await db.listen((c) => got.push(c), { onReconnect: () => reconnects++ });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN lmsweep_changes'`);
      expect(killed.rowCount).toBe(1);
      const until = Date.now() + 10_000;
      while (reconnects === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(reconnects).toBe(1);
      const s = await store.createSweep({ name: 'after', spec: {}, specText: '', plans: [] });
      while (!got.some((c) => c.id === s.id) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(got).toContainEqual({ kind: 'sweep', id: s.id, status: 'running' });
    } finally {
      await admin.end();
      await unlisten();
      await db.close();
    }
  });
});
