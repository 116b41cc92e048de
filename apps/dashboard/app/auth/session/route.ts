// GET /auth/session: whether this dashboard asks for sign-in, and whether this browser is signed
// in. The pages ask on load: a SameSite=Strict cookie is not sent with a navigation from another
// site, but it is with this same-origin request.
import type { NextRequest } from 'next/server';
import { dashboardEnv } from '../../../src/env';
import { SESSION_COOKIE, verifySession } from '../../../src/server/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export function GET(req: NextRequest): Response {
  const required = Boolean(dashboardEnv().LMSWEEP_API_TOKEN);
  const session = required ? verifySession(req.cookies.get(SESSION_COOKIE)?.value) : null;
  return Response.json({ required, signedIn: session !== null, expiresAt: session?.expiresAt ?? null }, { headers: { 'cache-control': 'no-store' } });
}
