// How many wrong API tokens the sign-in form takes before it answers 429: per client address, and
// for the whole dashboard only as a last resort (generous). The right token is compared first and
// always signs in, so no one's wrong guesses lock anyone else out. Server-side only.

export interface FailureLimits {
  /** Wrong tokens one address may send per window. */
  perAddress: number;
  /** Wrong tokens all addresses together may send per window (a guesser spread over many addresses). */
  global: number;
  windowMs: number;
  /** Addresses remembered at once; past this the oldest are forgotten (the global limit still holds). */
  maxAddresses: number;
}

export const SIGN_IN_LIMITS: FailureLimits = { perAddress: 10, global: 300, windowMs: 60_000, maxAddresses: 10_000 };

/** Wrong attempts in a sliding window, by address and in all. */
export class FailureLimiter {
  private readonly byAddress = new Map<string, number[]>();
  private readonly all: number[] = [];

  constructor(private readonly limits: FailureLimits = SIGN_IN_LIMITS) {}

  private prune(times: number[], now: number): void {
    while (times.length && times[0]! <= now - this.limits.windowMs) times.shift();
  }

  /** Whether another wrong attempt from `address` is one too many: its own limit, or everyone's, is spent. */
  exhausted(address: string, now = Date.now()): boolean {
    this.prune(this.all, now);
    const times = this.byAddress.get(address);
    if (times) this.prune(times, now);
    return this.all.length >= this.limits.global || (times?.length ?? 0) >= this.limits.perAddress;
  }

  /** Counts a wrong attempt from `address`. */
  record(address: string, now = Date.now()): void {
    this.prune(this.all, now);
    if (this.all.length < this.limits.global) this.all.push(now);
    let times = this.byAddress.get(address);
    if (!times) {
      if (this.byAddress.size >= this.limits.maxAddresses) this.forgetIdle(now);
      times = [];
      this.byAddress.set(address, times);
    }
    this.prune(times, now);
    if (times.length < this.limits.perAddress) times.push(now);
  }

  /** Drops addresses with nothing in the window; if none, the longest-known one. */
  private forgetIdle(now: number): void {
    for (const [a, times] of this.byAddress) {
      this.prune(times, now);
      if (!times.length) this.byAddress.delete(a);
    }
    if (this.byAddress.size >= this.limits.maxAddresses) this.byAddress.delete(this.byAddress.keys().next().value!);
  }

  /** Addresses remembered now (for tests). */
  get addresses(): number {
    return this.byAddress.size;
  }
}

/**
 * The client's address as the dashboard's server knows it: Next.js fills `x-forwarded-for` with
 * the peer's address when the client sent none, and keeps one the client sent (so a client may
 * name itself anything: it cannot dodge the global limit, and a correct token is never refused).
 */
export function clientAddress(headers: Headers): string {
  const first = headers.get('x-forwarded-for')?.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.slice(0, 100) || 'unknown';
}
