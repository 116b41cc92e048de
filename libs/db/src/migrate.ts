// Applies the committed Prisma migrations at open, fast and without the Prisma CLI, while keeping
// Prisma's own bookkeeping (`_prisma_migrations`, same columns and checksums as `prisma migrate
// deploy`), so `prisma migrate status|deploy|dev` agree with us afterwards.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { DbLogger } from './logger.ts';

/** libs/db/src → the repository's prisma/migrations. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));

/**
 * The advisory lock key `prisma migrate` itself takes (72707369 = "prisma" in its source), so a
 * coordinator starting and a CLI deploy exclude each other as well as two coordinators.
 */
export const MIGRATION_LOCK_KEY = 72707369;

export interface MigrationFile {
  /** Directory name, e.g. 20261123000000_init: the order of application. */
  name: string;
  sql: string;
  /** sha256 hex of the file's bytes: what Prisma records. */
  checksum: string;
}

/** The committed migrations, in order. Directories without a migration.sql are skipped (as Prisma does). */
export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): MigrationFile[] {
  if (!existsSync(dir)) throw new Error(`migrations directory ${dir} does not exist (pass migrationsDir)`);
  return readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory() && existsSync(path.join(dir, name, 'migration.sql')))
    .sort()
    .map((name) => {
      const bytes = readFileSync(path.join(dir, name, 'migration.sql'));
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}

// Prisma's DDL, verbatim (schema engine, postgres flavour).
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

const SELECT_RECORDED = `SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at`;
const INSERT_RECORD = `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`;

interface Recorded {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

/** Which committed migrations still have to run; throws on a failed, unresolved one (as `migrate deploy` does, P3009). */
function pending(files: MigrationFile[], recorded: Recorded[], log?: DbLogger): MigrationFile[] {
  const failed = recorded.filter((r) => r.finished_at == null && r.rolled_back_at == null);
  if (failed.length) {
    throw new Error(
      `migration ${failed.map((f) => f.migration_name).join(', ')} failed earlier and is not resolved; ` +
        'fix the database, then run `npx prisma migrate resolve --applied|--rolled-back <name>`',
    );
  }
  const applied = new Map<string, string>();
  for (const r of recorded) if (r.finished_at != null && r.rolled_back_at == null) applied.set(r.migration_name, r.checksum);
  const out: MigrationFile[] = [];
  for (const f of files) {
    const sum = applied.get(f.name);
    if (sum === undefined) out.push(f);
    else if (sum !== f.checksum) log?.('warn', `migration ${f.name} was modified after it was applied (checksum differs); not re-applied`);
  }
  return out;
}

/**
 * Applies pending migrations to a PGlite (one connection: no lock needed). Each file runs with
 * exec() (multi-statement) inside a transaction together with its `_prisma_migrations` row, so a
 * failing file leaves nothing behind. Returns the names applied.
 */
export async function migratePglite(db: PGlite, files: MigrationFile[], log?: DbLogger): Promise<string[]> {
  await db.exec(CREATE_MIGRATIONS_TABLE);
  const recorded = (await db.query<Recorded>(SELECT_RECORDED)).rows;
  const todo = pending(files, recorded, log);
  for (const f of todo) {
    try {
      await db.transaction(async (tx) => {
        await tx.exec(f.sql);
        await tx.query(INSERT_RECORD, [randomUUID(), f.checksum, f.name]);
      });
    } catch (e) {
      throw new Error(`migration ${f.name} failed: ${(e as Error).message}`, { cause: e });
    }
    log?.('info', `applied migration ${f.name}`);
  }
  return todo.map((f) => f.name);
}

/**
 * Applies pending migrations to a PostgreSQL server on one dedicated connection: under
 * `pg_advisory_lock` (two coordinators starting together: the second waits, then finds nothing
 * to do), each file and its `_prisma_migrations` row in one transaction.
 */
export async function migratePostgres(config: pg.ClientConfig, files: MigrationFile[], log?: DbLogger): Promise<string[]> {
  const client = new pg.Client(config);
  client.on('error', (e) => log?.('warn', `migration connection error: ${e.message}`));
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const recorded = (await client.query<Recorded>(SELECT_RECORDED)).rows;
      const todo = pending(files, recorded, log);
      for (const f of todo) {
        await client.query('BEGIN');
        try {
          await client.query(f.sql); // simple query protocol: multi-statement is fine
          await client.query(INSERT_RECORD, [randomUUID(), f.checksum, f.name]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw new Error(`migration ${f.name} failed: ${(e as Error).message}`, { cause: e });
        }
        log?.('info', `applied migration ${f.name}`);
      }
      return todo.map((f) => f.name);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}
