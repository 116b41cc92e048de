// Opening the database: a Prisma client over PGlite (embedded, one connection, one process: only
// the coordinator opens it) or over a PostgreSQL server, migrated at open, with live changes
// delivered through Postgres LISTEN/NOTIFY (so they cross coordinator replicas).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client.ts';
import { type DbTarget, pgPoolConfig, resolveDatabase } from './adapter.ts';
import type { DbLogger } from './logger.ts';
import { migratePglite, migratePostgres, readMigrations } from './migrate.ts';

/** The NOTIFY channel every store write announces itself on. */
export const CHANGES_CHANNEL = 'lmsweep_changes';

/** What changed (small: a listener refetches what it needs). */
export interface Change {
  kind: 'sweep' | 'trial' | 'worker' | 'metric';
  id: string;
  sweepId?: string;
  status?: string;
}

export interface ListenOptions {
  /**
   * Called after the server connection carrying LISTEN dropped and was re-established:
   * notifications sent in between are lost, so refetch.
   */
  onReconnect?: () => void;
}

export interface Db {
  prisma: PrismaClient;
  target: DbTarget;
  /** Migrations this open applied (empty when the database was up to date). */
  migrationsApplied: string[];
  /** Subscribes to store changes; resolves once subscribed, to an unsubscribe function. */
  listen(onChange: (c: Change) => void, opts?: ListenOptions): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://…, memory://, a PGlite data dir (plain path or file:), or nothing for .lmsweep/db under cwd. */
  url?: string;
  cwd?: string;
  /** Apply pending committed migrations at open (default true). */
  migrate?: boolean;
  /** Where the migrations are (default: the repository's prisma/migrations). */
  migrationsDir?: string;
  /** Pool size on a server (default 10). */
  poolMax?: number;
  logger?: DbLogger;
}

/** Parses a NOTIFY payload into a Change; null when it is not one of ours. */
export function parseChange(payload: string): Change | null {
  try {
    const v = JSON.parse(payload) as Partial<Change> | null;
    if (!v || typeof v !== 'object' || typeof v.id !== 'string' || !['sweep', 'trial', 'worker', 'metric'].includes(v.kind as string)) return null;
    const c: Change = { kind: v.kind as Change['kind'], id: v.id };
    if (typeof v.sweepId === 'string') c.sweepId = v.sweepId;
    if (typeof v.status === 'string') c.status = v.status;
    return c;
  } catch {
    return null;
  }
}

function safeCall(onChange: (c: Change) => void, c: Change, log?: DbLogger) {
  try {
    onChange(c);
  } catch (e) {
    log?.('error', `change listener threw: ${(e as Error).message}`);
  }
}

export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<Db> {
  const target = resolveDatabase(opts.url, opts.cwd);
  const log = opts.logger;
  const migrate = opts.migrate ?? true;
  const files = migrate ? readMigrations(opts.migrationsDir) : [];

  if (target.kind === 'pglite') {
    if (!target.dataDir.startsWith('memory://')) mkdirSync(path.dirname(target.dataDir), { recursive: true });
    const lite = new PGlite({ dataDir: target.dataDir });
    let migrationsApplied: string[] = [];
    try {
      await lite.waitReady;
      if (migrate) migrationsApplied = await migratePglite(lite, files, log);
    } catch (e) {
      await lite.close().catch(() => {});
      throw e;
    }
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(lite) });
    let closed = false;
    return {
      prisma,
      target,
      migrationsApplied,
      async listen(onChange) {
        const unsub = await lite.listen(CHANGES_CHANNEL, (payload) => {
          const c = parseChange(payload);
          if (c) safeCall(onChange, c, log);
        });
        let done = false;
        return async () => {
          if (done || closed) return;
          done = true;
          await unsub();
        };
      },
      async close() {
        if (closed) return;
        closed = true;
        await prisma.$disconnect();
        await lite.close();
      },
    };
  }

  const poolConfig = pgPoolConfig(target, opts.poolMax ?? 10);
  const migrationsApplied = migrate ? await migratePostgres(poolConfig, files, log) : [];
  const prisma = new PrismaClient({
    adapter: new PrismaPg(poolConfig, { onPoolError: (e) => log?.('warn', `idle pool connection error: ${e.message}`) }),
  });
  const listener = new PgListener(poolConfig, log);
  let closed = false;
  return {
    prisma,
    target,
    migrationsApplied,
    listen: (onChange, o) => listener.subscribe(onChange, o ?? {}),
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      await prisma.$disconnect();
    },
  };
}

interface Subscriber {
  onChange: (c: Change) => void;
  onReconnect?: () => void;
}

/**
 * One dedicated connection running LISTEN for all of a Db's subscribers (opened with the first,
 * closed with the last); when it drops, it reconnects with backoff (0.2 s doubling to 5 s).
 */
class PgListener {
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private readonly subs = new Set<Subscriber>();
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = 200;
  private closed = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly log?: DbLogger,
  ) {}

  async subscribe(onChange: (c: Change) => void, opts: ListenOptions): Promise<() => Promise<void>> {
    if (this.closed) throw new Error('database is closed');
    const sub: Subscriber = { onChange, ...(opts.onReconnect ? { onReconnect: opts.onReconnect } : {}) };
    this.subs.add(sub);
    try {
      await this.ensure();
    } catch (e) {
      this.subs.delete(sub);
      throw e;
    }
    return async () => {
      if (!this.subs.delete(sub)) return;
      if (this.subs.size === 0) await this.disconnect();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subs.clear();
    await this.disconnect();
  }

  private async ensure(): Promise<void> {
    if (this.client) return;
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    await this.connecting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (m) => {
      if (m.channel !== CHANGES_CHANNEL || !m.payload) return;
      const c = parseChange(m.payload);
      if (!c) return;
      for (const s of [...this.subs]) safeCall(s.onChange, c, this.log);
    });
    client.on('error', (e) => {
      this.log?.('warn', `LISTEN connection error: ${e.message}`);
      this.dropped(client);
    });
    client.on('end', () => this.dropped(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (e) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
      throw e;
    }
    if (this.closed || this.subs.size === 0) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.retryMs = 200;
  }

  private dropped(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners();
    client.on('error', () => {});
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.subs.size === 0 || this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(5_000, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closed || this.subs.size === 0) return;
      this.ensure().then(
        () => {
          this.log?.('info', 'LISTEN connection re-established');
          for (const s of [...this.subs]) s.onReconnect?.();
        },
        (e: Error) => {
          this.log?.('warn', `LISTEN reconnect failed: ${e.message}; retrying in ${this.retryMs} ms`);
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.retryTimer.unref?.();
  }

  private async disconnect(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.connecting) await this.connecting.catch(() => {});
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => {});
      await c.end().catch(() => {});
    }
  }
}
