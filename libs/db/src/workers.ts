// Workers: registration (with the key a reconnecting worker must present), liveness, and the list
// with each worker's current trial.
import { createHash, randomBytes } from 'node:crypto';
import { Prisma, type Worker } from './generated/client.ts';
import { CHANGES_CHANNEL } from './database.ts';
import { newId } from './ids.ts';
import { notifySql, type StoreContext, ts } from './store-context.ts';

export interface WorkerInput {
  id?: string | undefined;
  name: string;
  host: string;
  backend: string;
  device: string;
  version: string;
  /** The Slurm job it runs in ("1234_0"), when Slurm started it. */
  slurmJob?: string | undefined;
}

export interface WorkerTrial {
  id: string;
  sweepId: string;
  attempt: number;
  method: string;
  seed: number;
  progress: number | null;
  leaseExpiresAt: Date | null;
}
/** A worker row; `connected` is false when it said goodbye or was not seen for staleWorkerMs; `stale` tells the latter. */
export type WorkerInfo = Omit<Worker, 'keyHash'> & { stale: boolean; currentTrial: WorkerTrial | null };

/** Registers a worker, or revives its row when it reconnects with its id (connected again). Returns the id. */
export async function upsertWorker(ctx: StoreContext, w: WorkerInput): Promise<string> {
  const id = w.id ?? newId('w');
  const now = ctx.now();
  const fields = { name: w.name, host: w.host, backend: w.backend, device: w.device, version: w.version, slurmJob: w.slurmJob ?? null, connected: true, connectedAt: now, lastHeartbeat: now };
  await ctx.prisma.$transaction([
    ctx.prisma.worker.upsert({ where: { id }, create: { id, ...fields }, update: fields }),
    ctx.prisma.$queryRaw(notifySql({ kind: 'worker', id, status: 'connected' })),
  ]);
  return id;
}

/**
 * Registers a worker for the gateway. Without an id: a new worker, with a fresh secret key.
 * With an id: that worker reconnecting, which must present the key it was given (a worker id
 * alone is not a credential: any holder of the shared token could take over another worker's
 * leases). Null when the id is registered with another key. An id the database does not know
 * (e.g. after a reset) is registered with the key presented, or a fresh one.
 */
export async function registerWorker(ctx: StoreContext, w: WorkerInput, key?: string): Promise<{ id: string; key: string } | null> {
  const id = w.id ?? newId('w');
  const k = (w.id && key) || randomBytes(24).toString('base64url');
  const keyHash = createHash('sha256').update(k).digest('hex');
  const now = ts(ctx.now());
  const rows = await ctx.prisma.$queryRaw<{ id: string }[]>`
    WITH u AS (
      INSERT INTO "Worker" (id, name, host, backend, device, version, "slurmJob", connected, "connectedAt", "lastHeartbeat", "keyHash")
      VALUES (${id}, ${w.name}, ${w.host}, ${w.backend}, ${w.device}, ${w.version}, ${w.slurmJob ?? null}, true, ${now}, ${now}, ${keyHash})
      ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, host = EXCLUDED.host, backend = EXCLUDED.backend, device = EXCLUDED.device,
        version = EXCLUDED.version, "slurmJob" = EXCLUDED."slurmJob", connected = true, "connectedAt" = EXCLUDED."connectedAt", "lastHeartbeat" = EXCLUDED."lastHeartbeat",
        "keyHash" = EXCLUDED."keyHash"
      WHERE "Worker"."keyHash" IS NULL OR "Worker"."keyHash" = EXCLUDED."keyHash"
      RETURNING id
    )
    SELECT u.id FROM u CROSS JOIN LATERAL (SELECT pg_notify(${CHANGES_CHANNEL}, json_build_object('kind', 'worker', 'id', u.id, 'status', 'connected')::text)) n`;
  return rows.length ? { id, key: k } : null;
}

/** Whether `key` is the key of worker `id` (checked by the artifact upload route). */
export async function workerKeyMatches(ctx: StoreContext, id: string, key: string): Promise<boolean> {
  const row = await ctx.prisma.worker.findUnique({ where: { id }, select: { keyHash: true } });
  return !!row?.keyHash && row.keyHash === createHash('sha256').update(key).digest('hex');
}

/** The worker spoke: lastHeartbeat = now, connected; optionally its progress and current trial (null clears). */
export async function workerSeen(ctx: StoreContext, id: string, seen: { progress?: number | null; currentTrialId?: string | null } = {}): Promise<void> {
  const data: Prisma.WorkerUpdateManyMutationInput = { lastHeartbeat: ctx.now(), connected: true };
  if (seen.progress !== undefined) data.progress = seen.progress;
  if (seen.currentTrialId !== undefined) data.currentTrialId = seen.currentTrialId;
  await ctx.prisma.$transaction([
    ctx.prisma.worker.updateMany({ where: { id }, data }),
    ctx.prisma.$queryRaw(notifySql({ kind: 'worker', id, status: 'connected' })),
  ]);
}

/** The worker's connection closed. Its trial keeps its lease (it may reconnect); the reaper handles the rest. */
export async function workerDisconnected(ctx: StoreContext, id: string): Promise<void> {
  await ctx.prisma.$transaction([
    ctx.prisma.worker.updateMany({ where: { id }, data: { connected: false } }),
    ctx.prisma.$queryRaw(notifySql({ kind: 'worker', id, status: 'disconnected' })),
  ]);
}

/**
 * Workers, connected first, then most recently seen. `connected` is false for a worker that
 * disconnected or was not seen for staleWorkerMs (then `stale` is true). currentTrial is the
 * trial it holds the lease of, if any.
 */
export async function listWorkers(ctx: StoreContext): Promise<WorkerInfo[]> {
  const workers = await ctx.prisma.worker.findMany({ omit: { keyHash: true }, orderBy: [{ lastHeartbeat: 'desc' }, { id: 'asc' }] });
  const ids = workers.map((w) => w.currentTrialId).filter((x): x is string => !!x);
  const trials = ids.length
    ? await ctx.prisma.trial.findMany({
        where: { id: { in: ids }, status: 'running' },
        select: { id: true, sweepId: true, attempt: true, method: true, seed: true, progress: true, leaseExpiresAt: true, leaseOwner: true },
      })
    : [];
  const byId = new Map(trials.map((t) => [t.id, t]));
  const now = ctx.now().getTime();
  const out = workers.map((w): WorkerInfo => {
    const stale = now - w.lastHeartbeat.getTime() > ctx.staleWorkerMs;
    const t = w.currentTrialId ? byId.get(w.currentTrialId) : undefined;
    const currentTrial =
      t && t.leaseOwner === w.id
        ? { id: t.id, sweepId: t.sweepId, attempt: t.attempt, method: t.method, seed: t.seed, progress: t.progress, leaseExpiresAt: t.leaseExpiresAt }
        : null;
    return { ...w, connected: w.connected && !stale, stale, currentTrial };
  });
  return out.sort((a, b) => Number(b.connected) - Number(a.connected));
}
