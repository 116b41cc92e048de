// The sign-in state of the request being rendered, for server components (the layout, the sign-in page).
import { cookies } from 'next/headers';
import type { AuthState } from '../components/auth';
import { dashboardEnv } from '../env';
import { SESSION_COOKIE, verifySession } from './session';

/** Reading the cookies first makes every page that calls this render per request (never prerendered at build time, when no token is set). */
export async function currentAuth(): Promise<AuthState> {
  const jar = await cookies();
  const required = Boolean(dashboardEnv().LMSWEEP_API_TOKEN);
  return { required, signedIn: required && verifySession(jar.get(SESSION_COOKIE)?.value) !== null };
}
