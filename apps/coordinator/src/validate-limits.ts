// How often one address may have a spec checked without the API token. `sweeps.validate` is open
// to anyone and each check costs a spec thread tens of milliseconds; its lane (spec-pool.ts)
// already keeps it from delaying launches, and this keeps one address from holding that lane (and
// a core) for everyone else: a token bucket per address, paid by anonymous validations only.
//
// Loopback counts too by default: on a coordinator with an API token, the anonymous callers on
// loopback are the dashboard's server (speaking for every browser that reaches it) and whatever
// else runs on the machine; exempting it would exempt all of them. A person typing in the
// dashboard's editor (one check 400 ms after the last keystroke) stays far below the bucket.
import { SpecChecksBusyError, type SpecChecks } from '@lmsweep/api';
import { addressKey, isLoopback } from './address.ts';
import { TokenBuckets } from './token-buckets.ts';

export interface ValidateLimits {
  /** Anonymous validations one address may make at once (a token bucket's size). */
  burst: number;
  /** …and per minute after that. */
  perMinute: number;
  /** Loopback peers are not counted (default false: see above). */
  exemptLoopback: boolean;
}

export const DEFAULT_VALIDATE_LIMITS: Readonly<ValidateLimits> = Object.freeze({ burst: 60, perMinute: 120, exemptLoopback: false });

export class ValidateLimiter {
  private readonly buckets: TokenBuckets;
  private taken = 0;

  constructor(
    private readonly limits: ValidateLimits,
    now: () => number = Date.now,
  ) {
    this.buckets = new TokenBuckets(limits.burst, limits.perMinute, now);
  }

  /** Takes one validation from `remote`'s bucket; the refusal (with the wait) when it is empty, else null. */
  take(remote: string | null): string | null {
    if (this.limits.exemptLoopback && isLoopback(remote)) return null;
    const key = addressKey(remote);
    const wait = this.buckets.waitMs(key);
    if (wait > 0) {
      return `too many validations without the API token from ${key} (at most ${this.limits.burst} at once, then ${this.limits.perMinute} a minute); retry in ${Math.ceil(wait / 1000)} s`;
    }
    this.buckets.take(key);
    if (++this.taken % 1024 === 0) this.buckets.prune();
    return null;
  }
}

/**
 * The spec checks one API request sees: a caller who may launch goes straight to the pool (its
 * validations in the write lane); an anonymous caller's validations first pay from its address's
 * bucket (refused with BUSY when it is empty).
 */
export function specChecksFor(pool: SpecChecks, limiter: ValidateLimiter, caller: { canWrite: boolean; remote: string | null }): SpecChecks {
  if (caller.canWrite) return pool;
  return {
    prepare: (input) => pool.prepare(input),
    extend: (job) => pool.extend(job),
    validate: (input, opts) => {
      const refused = limiter.take(caller.remote);
      return refused ? Promise.reject(new SpecChecksBusyError(refused)) : pool.validate(input, opts);
    },
  };
}
