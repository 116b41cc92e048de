// POST /auth/sign-in (the sign-in page's form): the API token in, a session cookie out.
//
// The token is compared first (in constant time), so the right one always signs in, whoever else
// is guessing; wrong ones are counted per client address (and, generously, in all) and answered
// 429 past the limit (src/server/sign-in-limits.ts).
import type { NextRequest } from 'next/server';
import { dashboardEnv } from '../../../src/env';
import { isHttps, refusal, safeNext, seeOther } from '../../../src/server/auth-routes';
import { parseForm, readBody } from '../../../src/server/body';
import { requestOrigin } from '../../../src/server/host-check';
import { createSession, sessionCookie, tokenMatches } from '../../../src/server/session';
import { clientAddress, FailureLimiter } from '../../../src/server/sign-in-limits';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** The form is one token and a path: nothing near this. */
const MAX_BODY_BYTES = 8 * 1024;
const failures = new FailureLimiter();

export async function POST(req: NextRequest): Promise<Response> {
  // Sign-in CSRF: another site must not sign a visitor in (to a session of its choosing or at all).
  if (requestOrigin(req.headers) === 'foreign') return refusal(403, 'refused: sign in from the dashboard\'s own page');
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === null) return refusal(413, `sign-in form over ${MAX_BODY_BYTES} bytes`);
  const form = await parseForm(body, req.headers.get('content-type'));
  if (!form) return refusal(400, 'sign-in expects a form with a "token" field');
  const next = safeNext(form.get('next'));
  const { LMSWEEP_API_TOKEN: apiToken } = dashboardEnv();
  // Without an API token there is nothing to sign in to: everyone may launch already.
  if (!apiToken) return seeOther(next);
  const token = form.get('token');
  const now = Date.now();
  if (typeof token === 'string' && token && tokenMatches(token, apiToken)) return seeOther(next, sessionCookie(createSession(now), isHttps(req)));
  const address = clientAddress(req.headers);
  if (failures.exhausted(address, now)) {
    const r = refusal(429, 'too many wrong tokens from here in the last minute: wait a minute and try again');
    r.headers.set('retry-after', '60');
    return r;
  }
  failures.record(address, now);
  return seeOther(`/sign-in?error=wrong&next=${encodeURIComponent(next)}`);
}
