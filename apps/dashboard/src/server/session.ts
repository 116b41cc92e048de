// Dashboard sessions: a person signs in once with the API token and gets a cookie that says so
// until it expires. The cookie is never the token: it is `v1.<expiry>.<nonce>.<mac>`, with an
// HMAC-SHA256 over the rest under a key this server process draws at random when it starts (a
// restart signs everyone out). Signing out revokes the nonce. Server-side only.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'lmsweep_session';
/** How long a sign-in lasts. */
export const SESSION_TTL_MS = 12 * 3600_000;

interface SessionState {
  key: Buffer;
  /** nonce → expiry (ms) of signed-out sessions, until they would have expired anyway. */
  revoked: Map<string, number>;
}

// One key and one revocation list per process, shared by every route and page module of it.
const STATE = Symbol.for('lmsweep.dashboard.session');
function state(): SessionState {
  const g = globalThis as { [STATE]?: SessionState };
  g[STATE] ??= { key: randomBytes(32), revoked: new Map() };
  return g[STATE];
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether `given` is the API token, in time that does not depend on where they differ (the coordinator's own check). */
export { tokenMatches } from '@lmsweep/protocol/token';

/** A new session's cookie value, valid for SESSION_TTL_MS from `now`. */
export function createSession(now = Date.now()): string {
  const body = `v1.${(now + SESSION_TTL_MS).toString(36)}.${randomBytes(16).toString('base64url')}`;
  return `${body}.${mac(state().key, body)}`;
}

/** The session a cookie value stands for, or null: malformed, forged, expired or signed out. */
export function verifySession(value: string | undefined | null, now = Date.now()): { nonce: string; expiresAt: number } | null {
  if (!value || value.length > 200) return null;
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return null;
  const [, exp, nonce, sig] = parts as [string, string, string, string];
  if (!equalStrings(sig, mac(state().key, `v1.${exp}.${nonce}`))) return null;
  const expiresAt = Number.parseInt(exp, 36);
  if (!Number.isFinite(expiresAt) || expiresAt <= now) return null;
  if (state().revoked.has(nonce)) return null;
  return { nonce, expiresAt };
}

/** Signs a session out: its cookie is refused from now on, even if a copy of it was kept. */
export function revokeSession(value: string | undefined | null, now = Date.now()): void {
  const s = verifySession(value, now);
  const { revoked } = state();
  for (const [n, exp] of revoked) if (exp <= now) revoked.delete(n);
  if (s) revoked.set(s.nonce, s.expiresAt);
}

/** A Set-Cookie value for `value` (or one that clears the cookie). HttpOnly, SameSite=Strict, Secure over https. */
export function sessionCookie(value: string | null, secure: boolean): string {
  const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict', value === null ? 'Max-Age=0' : `Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`];
  if (secure) attrs.push('Secure');
  return [`${SESSION_COOKIE}=${value ?? ''}`, ...attrs].join('; ');
}

/** The session cookie's value in a Cookie header, if any. */
export function sessionFromCookieHeader(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === SESSION_COOKIE) return part.slice(i + 1).trim();
  }
  return undefined;
}
