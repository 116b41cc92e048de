// Bounds on live subscriptions (server-sent events, `live.changes`): each holds a database
// listener and a queue of up to 1,000 changes, and every change fans out to all of them, so their
// number is capped per address and in all; the next is answered 429 (the dashboard's live view,
// refused, tries again a few seconds later).
import { addressKey, isLoopback } from './address.ts';

export interface SubscriptionLimits {
  /** Open subscriptions from one address (an IPv6 address counts by its /64). */
  maxPerAddress: number;
  /** Open subscriptions in all, loopback included. */
  maxTotal: number;
  /**
   * Loopback peers are exempt from the per-address cap (default, as for worker sockets): the
   * dashboard's server holds one subscription per open page, for every browser it serves.
   */
  exemptLoopback: boolean;
}

/** Defaults: a person has a few dashboard pages open; a few hundred streams in all are cheap. */
export const DEFAULT_SUBSCRIPTION_LIMITS: Readonly<SubscriptionLimits> = Object.freeze({ maxPerAddress: 32, maxTotal: 512, exemptLoopback: true });

/** Open subscriptions, by address and in all. */
export class SubscriptionCounts {
  private readonly byAddress = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: SubscriptionLimits) {}

  /** Admits a new subscription from `remote` (counted until release()), or says why not. */
  admit(remote: string | null | undefined): string | null {
    if (this.total >= this.limits.maxTotal) return `too many live subscriptions (at most ${this.limits.maxTotal} in all); retry in a while`;
    const key = addressKey(remote);
    const n = this.byAddress.get(key) ?? 0;
    if (!(this.limits.exemptLoopback && isLoopback(remote)) && n >= this.limits.maxPerAddress) {
      return `too many live subscriptions from ${key} (at most ${this.limits.maxPerAddress}); close one or retry in a while`;
    }
    this.byAddress.set(key, n + 1);
    this.total++;
    return null;
  }

  release(remote: string | null | undefined): void {
    const key = addressKey(remote);
    const n = this.byAddress.get(key) ?? 0;
    if (n <= 0) return;
    if (n === 1) this.byAddress.delete(key);
    else this.byAddress.set(key, n - 1);
    this.total--;
  }

  /** Open subscriptions in all. */
  get open(): number {
    return this.total;
  }
}
