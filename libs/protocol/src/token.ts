// Comparing a presented secret (an API or worker token) with the expected one, for the servers
// that check them (the coordinator, the dashboard's sign-in). Node only (node:crypto): not part of
// the package index, which the dashboard's browser bundle imports; import '@lmsweep/protocol/token'.
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether `given` is `expected`, in time that depends on neither where they differ nor their
 * lengths: both are hashed (SHA-256) first and the digests compared in constant time. A missing
 * value (undefined, null) never matches.
 */
export function tokenMatches(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
