// Where the database lives and the Prisma driver adapter that reaches it.
// Embedded default: PGlite (a real Postgres compiled to wasm) in a data directory.
// DATABASE_URL=postgres://… : a PostgreSQL server through @prisma/adapter-pg.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

export type DbTarget =
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'postgres'; host: string; port: number; database: string; user: string; password: string };

export const DEFAULT_DATA_DIR = path.join('.lmsweep', 'db');

/** Reads a database location: a postgres:// URL, `memory://`, a `file:`/plain path, or nothing (the default data dir). */
export function resolveDatabase(url: string | undefined, cwd: string = process.cwd()): DbTarget {
  if (!url || url.trim() === '') return { kind: 'pglite', dataDir: path.resolve(cwd, DEFAULT_DATA_DIR) };
  if (/^postgres(ql)?:\/\//.test(url)) {
    const u = new URL(url);
    return {
      kind: 'postgres',
      host: u.hostname || '127.0.0.1',
      port: u.port ? Number(u.port) : 5432,
      database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
      user: decodeURIComponent(u.username || 'postgres'),
      password: decodeURIComponent(u.password || ''),
    };
  }
  if (url.startsWith('memory://')) return { kind: 'pglite', dataDir: url };
  const p = url.replace(/^(pglite|file):(\/\/)?/, '');
  return { kind: 'pglite', dataDir: path.resolve(cwd, p) };
}

export function describeTarget(t: DbTarget): string {
  return t.kind === 'pglite' ? `PGlite ${t.dataDir}` : `PostgreSQL ${t.user}@${t.host}:${t.port}/${t.database}`;
}

/**
 * adapter-pg 6.19 cannot decode the Postgres `name` (oid 19) and `"char"` (oid 18) columns that the
 * migration engine reads from the catalogs: report them as text (oid 25), which they are on the wire.
 */
class CatalogTextClient extends pg.Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const patch = (res: pg.QueryResult | pg.QueryResult[] | undefined) => {
      for (const r of Array.isArray(res) ? res : res ? [res] : []) {
        for (const f of r.fields ?? []) if (f.dataTypeID === 19 || f.dataTypeID === 18) f.dataTypeID = 25;
      }
      return res;
    };
    // pg.Pool#query (what adapter-pg calls outside transactions) passes a callback: patch through it.
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (err: Error | null, res: pg.QueryResult) => last(err, err ? res : patch(res));
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const out = (super.query as any)(...args);
    if (out && typeof out.then === 'function') return out.then(patch);
    return out;
  }
}

export function pgPoolConfig(t: Extract<DbTarget, { kind: 'postgres' }>, max = 10): pg.PoolConfig {
  // host/port/… separately, not a connectionString: with one, adapter-pg's shadow database
  // would point at the real database.
  return {
    host: t.host,
    port: t.port,
    database: t.database,
    user: t.user,
    password: t.password,
    max,
    idleTimeoutMillis: 1000,
  };
}

/** A PGlite whose argument-less (possibly multi-statement) SQL goes to exec(): the shadow database sends whole migration files. */
function scriptFriendly(db: PGlite): PGlite {
  const query = db.query.bind(db);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (db as any).query = async (sql: string, params?: unknown[], options?: any) => {
    if (!params || params.length === 0) {
      const results = await db.exec(sql, options);
      const last = results[results.length - 1];
      return last ?? { rows: [], fields: [], affectedRows: 0 };
    }
    return query(sql, params, options);
  };
  return db;
}

/** The adapter factory the Prisma CLI uses (prisma.config.ts): migrate diff/dev/deploy without engine binaries. */
export function migrationAdapterFactory(url: string | undefined) {
  const t = resolveDatabase(url);
  if (t.kind === 'postgres') return new PrismaPg({ ...pgPoolConfig(t, 2), Client: CatalogTextClient });
  // Lazy: `migrate diff` from the schema alone never opens the data directory.
  const open = (dataDir: string) => {
    if (!dataDir.startsWith('memory://')) mkdirSync(path.dirname(dataDir), { recursive: true });
    return new PrismaPGlite(scriptFriendly(new PGlite({ dataDir })));
  };
  return {
    provider: 'postgres' as const,
    adapterName: '@lmsweep/pglite',
    connect: () => open(t.dataDir).connect(),
    connectToShadowDb: () => open('memory://shadow').connect(),
  };
}
