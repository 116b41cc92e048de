// POST /auth/sign-out: the session ends here and now (its cookie is refused even if kept).
import type { NextRequest } from 'next/server';
import { isHttps, refusal, safeNext, seeOther } from '../../../src/server/auth-routes';
import { requestOrigin } from '../../../src/server/host-check';
import { revokeSession, SESSION_COOKIE, sessionCookie } from '../../../src/server/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export async function POST(req: NextRequest): Promise<Response> {
  if (requestOrigin(req.headers) === 'foreign') return refusal(403, 'refused: sign out from the dashboard\'s own page');
  revokeSession(req.cookies.get(SESSION_COOKIE)?.value);
  let next = '/';
  try {
    next = safeNext((await req.formData()).get('next'));
  } catch {
    /* no form: back to the start */
  }
  return seeOther(next, sessionCookie(null, isHttps(req)));
}
