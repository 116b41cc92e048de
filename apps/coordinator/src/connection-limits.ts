// Bounds on worker websockets: how long a socket may stay silent before its hello, how dead
// peers are found (ping/pong), and how many sockets one address may hold open.
import { addressKey, isLoopback } from './address.ts';

export interface ConnectionLimits {
  /** A socket that has not sent a valid hello by then is closed (CLOSE_HELLO_TIMEOUT). */
  helloTimeoutMs: number;
  /**
   * Every socket is pinged this often; one that answered nothing (no pong, no message) since the
   * previous ping is dropped, so a dead peer is gone within two intervals.
   */
  pingIntervalMs: number;
  /** Sockets from one address that have not said hello yet; the next is refused at the upgrade (HTTP 429). */
  maxUnauthenticatedPerAddress: number;
  /** Sockets from one address in all (workers that said hello included). */
  maxPerAddress: number;
  /**
   * Loopback peers are exempt from the per-address caps (default): the workers and tests of this
   * machine (`lmsweep bench load` runs 1,000 simulated workers on 127.0.0.1). Set false where a
   * proxy on the same machine forwards remote clients, or to test the caps.
   */
  exemptLoopback: boolean;
}

/**
 * Defaults: a worker sends its hello as soon as its socket opens, and one machine rarely runs
 * more than a few dozen agents (one per GPU or core group), so 8 silent sockets and 256 in all
 * per address leave honest fleets room while a client that opens hundreds is refused.
 */
export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  helloTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
  maxUnauthenticatedPerAddress: 8,
  maxPerAddress: 256,
  exemptLoopback: true,
});

interface Count {
  pending: number;
  total: number;
}

/** Open worker sockets per address: admits or refuses a new one, and follows each through hello and close. */
export class AddressCounts {
  private readonly counts = new Map<string, Count>();

  constructor(private readonly limits: ConnectionLimits) {}

  /** Why a new socket from `remote` is refused, or null when it may open. */
  refusal(remote: string | null | undefined): string | null {
    if (this.limits.exemptLoopback && isLoopback(remote)) return null;
    const c = this.counts.get(addressKey(remote));
    if (!c) return null;
    if (c.pending >= this.limits.maxUnauthenticatedPerAddress) {
      return `too many sockets from ${addressKey(remote)} that have not said hello (at most ${this.limits.maxUnauthenticatedPerAddress})`;
    }
    if (c.total >= this.limits.maxPerAddress) return `too many sockets from ${addressKey(remote)} (at most ${this.limits.maxPerAddress})`;
    return null;
  }

  opened(remote: string | null | undefined): void {
    const k = addressKey(remote);
    const c = this.counts.get(k) ?? { pending: 0, total: 0 };
    c.pending++;
    c.total++;
    this.counts.set(k, c);
  }

  /** The socket said a valid hello: it no longer counts as unauthenticated. */
  authenticated(remote: string | null | undefined): void {
    const c = this.counts.get(addressKey(remote));
    if (c && c.pending > 0) c.pending--;
  }

  closed(remote: string | null | undefined, wasPending: boolean): void {
    const k = addressKey(remote);
    const c = this.counts.get(k);
    if (!c) return;
    c.total--;
    if (wasPending && c.pending > 0) c.pending--;
    if (c.total <= 0) this.counts.delete(k);
  }

  /** Open sockets from `remote` (tests, /healthz-style introspection). */
  of(remote: string): Readonly<Count> {
    return this.counts.get(addressKey(remote)) ?? { pending: 0, total: 0 };
  }
}
