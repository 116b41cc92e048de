// POST /auth/sign-in (the sign-in page's form): the API token in, a session cookie out.
import type { NextRequest } from 'next/server';
import { dashboardEnv } from '../../../src/env';
import { isHttps, refusal, safeNext, seeOther } from '../../../src/server/auth-routes';
import { requestOrigin } from '../../../src/server/host-check';
import { createSession, sessionCookie, tokenMatches } from '../../../src/server/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** The form is one token and a path: nothing near this. */
const MAX_BODY_BYTES = 8 * 1024;
/** Wrong tokens allowed per minute, for the whole dashboard, before it stops checking for a while. */
const MAX_FAILURES_PER_MINUTE = 20;
const failures: number[] = [];

export async function POST(req: NextRequest): Promise<Response> {
  // Sign-in CSRF: another site must not sign a visitor in (to a session of its choosing or at all).
  if (requestOrigin(req.headers) === 'foreign') return refusal(403, 'refused: sign in from the dashboard\'s own page');
  if (Number(req.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return refusal(413, `sign-in form over ${MAX_BODY_BYTES} bytes`);
  let form: FormData;
  try {
    form = await req.formData();
  } catch {
    return refusal(400, 'sign-in expects a form with a "token" field');
  }
  const next = safeNext(form.get('next'));
  const { LMSWEEP_API_TOKEN: apiToken } = dashboardEnv();
  // Without an API token there is nothing to sign in to: everyone may launch already.
  if (!apiToken) return seeOther(next);
  const now = Date.now();
  while (failures.length && failures[0]! < now - 60_000) failures.shift();
  if (failures.length >= MAX_FAILURES_PER_MINUTE) return refusal(429, 'too many wrong tokens in the last minute: wait a minute and try again');
  const token = form.get('token');
  if (typeof token !== 'string' || !token || !tokenMatches(token, apiToken)) {
    failures.push(now);
    return seeOther(`/sign-in?error=wrong&next=${encodeURIComponent(next)}`);
  }
  return seeOther(next, sessionCookie(createSession(now), isHttps(req)));
}
