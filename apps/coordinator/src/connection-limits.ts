// Bounds on worker websockets: how long a socket may stay silent before its hello and how much it
// may send before it, how dead peers are found (ping/pong), how many sockets one address (and all
// addresses together) may hold open before their hello, and how many messages of one socket may
// wait to be handled before it is read no further.
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
   * Sockets that have not said hello yet from all addresses together, loopback included (one IPv6
   * prefix or many loopback peers could open thousands otherwise); the next is refused at the upgrade.
   */
  maxUnauthenticated: number;
  /**
   * Bytes a socket may send before its hello is answered (its hello and anything sent with it):
   * past that it is cut (1009). The largest valid hello, every field at its limit, is ≈ 11 KB
   * (an honest one well under 2 KB).
   */
  maxHelloBytes: number;
  /**
   * Messages of one socket received but not yet handled (they are handled one at a time, in
   * order), and their bytes: past either, the socket is not read (TCP pushes back on the sender)
   * until the backlog is down to half of both.
   */
  maxBacklogMessages: number;
  maxBacklogBytes: number;
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
  maxUnauthenticated: 1024,
  maxHelloBytes: 16 * 1024,
  maxBacklogMessages: 64,
  maxBacklogBytes: 4 * 2 ** 20,
  exemptLoopback: true,
});

interface Count {
  pending: number;
  total: number;
}

/** Open worker sockets per address: admits or refuses a new one, and follows each through hello and close. */
export class AddressCounts {
  private readonly counts = new Map<string, Count>();
  /** Sockets without a hello yet, from every address. */
  private pendingAll = 0;

  constructor(private readonly limits: ConnectionLimits) {}

  /** Why a new socket from `remote` is refused, or null when it may open. */
  refusal(remote: string | null | undefined): string | null {
    if (this.pendingAll >= this.limits.maxUnauthenticated) return `too many sockets that have not said hello (at most ${this.limits.maxUnauthenticated} from all addresses)`;
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
    this.pendingAll++;
    this.counts.set(k, c);
  }

  /** The socket said a valid hello: it no longer counts as unauthenticated. */
  authenticated(remote: string | null | undefined): void {
    const c = this.counts.get(addressKey(remote));
    if (c && c.pending > 0) {
      c.pending--;
      this.pendingAll--;
    }
  }

  closed(remote: string | null | undefined, wasPending: boolean): void {
    const k = addressKey(remote);
    const c = this.counts.get(k);
    if (!c) return;
    c.total--;
    if (wasPending && c.pending > 0) {
      c.pending--;
      this.pendingAll--;
    }
    if (c.total <= 0) this.counts.delete(k);
  }

  /** Sockets without a hello yet, from every address. */
  get pending(): number {
    return this.pendingAll;
  }

  /** Open sockets from `remote` (tests, /healthz-style introspection). */
  of(remote: string): Readonly<Count> {
    return this.counts.get(addressKey(remote)) ?? { pending: 0, total: 0 };
  }
}
