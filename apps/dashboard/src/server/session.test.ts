import { describe, expect, it } from 'vitest';
import { createSession, revokeSession, SESSION_TTL_MS, sessionCookie, sessionFromCookieHeader, tokenMatches, verifySession } from './session';

describe('dashboard sessions', () => {
  it('a session verifies until it expires; it is not the token and carries no secret', () => {
    const now = 1_800_000_000_000;
    const s = createSession(now);
    expect(s).toMatch(/^v1\.[0-9a-z]+\.[\w-]{22}\.[\w-]{43}$/);
    expect(verifySession(s, now + 1000)).toMatchObject({ expiresAt: now + SESSION_TTL_MS });
    expect(verifySession(s, now + SESSION_TTL_MS)).toBeNull();
    expect(createSession(now)).not.toBe(s);
  });
  it('a forged, altered or extended session is refused', () => {
    const now = Date.now();
    const s = createSession(now);
    const [v, exp, nonce, mac] = s.split('.') as [string, string, string, string];
    const later = (Number.parseInt(exp, 36) + 10 * SESSION_TTL_MS).toString(36);
    for (const bad of [`${v}.${later}.${nonce}.${mac}`, `${v}.${exp}.${nonce}x.${mac}`, `${v}.${exp}.${nonce}.${mac.slice(0, -1)}A`, `v2.${exp}.${nonce}.${mac}`, `${s}.x`, '', 'x'.repeat(500)]) {
      expect(verifySession(bad, now), bad).toBeNull();
    }
    expect(verifySession(undefined)).toBeNull();
  });
  it('signing out revokes the session, also for a kept copy of its cookie', () => {
    const s = createSession();
    const other = createSession();
    revokeSession(s);
    expect(verifySession(s)).toBeNull();
    expect(verifySession(other)).not.toBeNull();
  });
  it('the cookie is HttpOnly and SameSite=Strict, Secure over https, cleared on sign-out', () => {
    expect(sessionCookie('abc', false)).toBe(`lmsweep_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`);
    expect(sessionCookie('abc', true)).toMatch(/; Secure$/);
    expect(sessionCookie(null, false)).toMatch(/^lmsweep_session=; .*Max-Age=0/);
    expect(sessionFromCookieHeader('a=1; lmsweep_session=v1.x.y.z; b=2')).toBe('v1.x.y.z');
    expect(sessionFromCookieHeader('a=1')).toBeUndefined();
  });
  it('compares tokens whole', () => {
    expect(tokenMatches('secret-token', 'secret-token')).toBe(true);
    expect(tokenMatches('secret-toke', 'secret-token')).toBe(false);
    expect(tokenMatches('', 'secret-token')).toBe(false);
  });
});
