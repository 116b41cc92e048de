// Lease and heartbeat timing shared by coordinator and worker.

/** A claimed trial's lease lasts this long unless heartbeated. */
export const DEFAULT_LEASE_MS = 30_000;
/** Workers heartbeat at a third of the lease. */
export const heartbeatInterval = (leaseMs: number) => Math.max(50, Math.floor(leaseMs / 3));
/** How often the coordinator looks for expired leases. */
export const DEFAULT_REAP_INTERVAL_MS = 5_000;
/** Backoff before a requeued trial may be claimed again: base · 2^(attempt-1), capped. */
export function retryBackoffMs(attempt: number, baseMs = 1_000, capMs = 60_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
/** How long an idle worker waits before asking again. */
export const IDLE_RETRY_MS = 1_000;
/** Default coordinator port and dashboard port. */
export const DEFAULT_COORDINATOR_PORT = 4317;
export const DEFAULT_DASHBOARD_PORT = 3000;
export const VERSION = '0.1.0';
export { MAX_API_BATCH, MAX_API_BODY_BYTES } from './limits.ts';
