// How fast one worker (and one address) may take trials. An honest agent holds one trial at a
// time and claims the next when it has reported the last; a trial that succeeds gives its claim
// back, so honest work is never slowed. What the limit stops is a claim loop that fails or
// abandons what it takes: it gets `idle` with the wait instead of draining the queue.
import { addressKey, isLoopback } from './address.ts';
import { TokenBuckets } from './token-buckets.ts';

export { TokenBuckets };

export interface ClaimLimits {
  /** Claims a worker may make at once before it has to wait (a token bucket's size). */
  burst: number;
  /** Claims per minute a worker gets back over time. */
  perMinute: number;
  /** The same for all workers of one address together (a token holder may register many ids). */
  addressBurst: number;
  addressPerMinute: number;
  /** Loopback peers are exempt from the address bucket (default), as from the socket caps. */
  exemptLoopback: boolean;
}

/**
 * Defaults: 10 quick failures, then one claim every 5 s per worker; 100 and one a second per
 * address. A sweep whose trials diverge within seconds still runs at that pace, and the refund on
 * success keeps fast honest trials (bench load's instant ones) unlimited.
 */
export const DEFAULT_CLAIM_LIMITS: Readonly<ClaimLimits> = Object.freeze({
  burst: 10,
  perMinute: 12,
  addressBurst: 100,
  addressPerMinute: 60,
  exemptLoopback: true,
});

/** The per-worker and per-address buckets together. */
export class ClaimLimiter {
  private readonly workers: TokenBuckets;
  private readonly addresses: TokenBuckets;

  constructor(
    private readonly limits: ClaimLimits,
    now: () => number = Date.now,
  ) {
    this.workers = new TokenBuckets(limits.burst, limits.perMinute, now);
    this.addresses = new TokenBuckets(limits.addressBurst, limits.addressPerMinute, now);
  }

  private address(remote: string | null): string | null {
    return this.limits.exemptLoopback && isLoopback(remote) ? null : addressKey(remote);
  }

  /** How long this worker must wait before its next claim may take a trial (0: now). */
  waitMs(workerId: string, remote: string | null): number {
    const a = this.address(remote);
    return Math.max(this.workers.waitMs(workerId), a === null ? 0 : this.addresses.waitMs(a));
  }

  /** A claim took a trial. */
  took(workerId: string, remote: string | null): void {
    this.workers.take(workerId);
    const a = this.address(remote);
    if (a !== null) this.addresses.take(a);
  }

  /** A trial this worker took succeeded: its claim is given back. */
  succeeded(workerId: string, remote: string | null): void {
    this.workers.give(workerId);
    const a = this.address(remote);
    if (a !== null) this.addresses.give(a);
  }

  prune(): void {
    this.workers.prune();
    this.addresses.prune();
  }
}

/**
 * The trials each worker holds a lease on, as this coordinator saw them handed out and given
 * back (claims, heartbeats, results, releases, cancels). An honest agent holds one at a time;
 * what this says is checked against the database before a claim is refused for it.
 */
export class HeldTrials {
  private readonly byWorker = new Map<string, Map<string, number>>();
  private readonly byTrial = new Map<string, string>();

  hold(workerId: string, trialId: string, attempt: number): void {
    const prev = this.byTrial.get(trialId);
    if (prev !== undefined && prev !== workerId) this.drop(trialId);
    const m = this.byWorker.get(workerId) ?? new Map<string, number>();
    m.set(trialId, attempt);
    this.byWorker.set(workerId, m);
    this.byTrial.set(trialId, workerId);
  }

  drop(trialId: string): void {
    const w = this.byTrial.get(trialId);
    if (w === undefined) return;
    this.byTrial.delete(trialId);
    const m = this.byWorker.get(w);
    m?.delete(trialId);
    if (m && m.size === 0) this.byWorker.delete(w);
  }

  count(workerId: string): number {
    return this.byWorker.get(workerId)?.size ?? 0;
  }

  /** Replaces what is known of a worker with what the database says it holds. */
  reset(workerId: string, leases: { id: string; attempt: number }[]): void {
    for (const id of [...(this.byWorker.get(workerId)?.keys() ?? [])]) this.drop(id);
    for (const l of leases) this.hold(workerId, l.id, l.attempt);
  }
}
