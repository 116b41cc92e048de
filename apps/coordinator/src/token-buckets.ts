// Token buckets by key (a worker, an address), refilled lazily: how claims and anonymous spec
// validations are paced.

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets by key, refilled lazily: take() spends one, give() returns one. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly size: number,
    perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  private get(key: string): Bucket {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.size, at: t };
    b.tokens = Math.min(this.size, b.tokens + (t - b.at) * this.perMs);
    b.at = t;
    this.buckets.set(key, b);
    return b;
  }

  /** Milliseconds until `key` has a whole token (0: it has one now). */
  waitMs(key: string): number {
    const b = this.get(key);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / this.perMs);
  }

  take(key: string): void {
    this.get(key).tokens -= 1;
  }

  give(key: string): void {
    const b = this.get(key);
    b.tokens = Math.min(this.size, b.tokens + 1);
  }

  /** Forgets full buckets (they are what a new key gets anyway): memory stays bounded by active keys. */
  prune(): void {
    for (const key of [...this.buckets.keys()]) if (this.get(key).tokens >= this.size) this.buckets.delete(key);
  }
}
