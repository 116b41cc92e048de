// POST /auth/sign-out: the session ends here and now (its cookie is refused even if kept).
import type { NextRequest } from 'next/server';
import { isHttps, refusal, safeNext, seeOther } from '../../../src/server/auth-routes';
import { parseForm, readBody } from '../../../src/server/body';
import { requestOrigin } from '../../../src/server/host-check';
import { revokeSession, SESSION_COOKIE, sessionCookie } from '../../../src/server/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

/** The form is one path at most. */
const MAX_BODY_BYTES = 8 * 1024;

export async function POST(req: NextRequest): Promise<Response> {
  if (requestOrigin(req.headers) === 'foreign') return refusal(403, 'refused: sign out from the dashboard\'s own page');
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === null) return refusal(413, `sign-out form over ${MAX_BODY_BYTES} bytes`);
  revokeSession(req.cookies.get(SESSION_COOKIE)?.value);
  // No form: back to the start.
  const next = safeNext((await parseForm(body, req.headers.get('content-type')))?.get('next'));
  return seeOther(next, sessionCookie(null, isHttps(req)));
}
