// The sign-in page: the API token, once; a session cookie (never the token) from then on.
import type { Metadata } from 'next';
import Link from 'next/link';
import { safeNext } from '../../src/server/auth-routes';
import { currentAuth } from '../../src/server/auth-state';

export const metadata: Metadata = { title: 'Sign in' };
export const dynamic = 'force-dynamic';

export default async function SignInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const q = await searchParams;
  const next = safeNext(typeof q.next === 'string' ? q.next : '/');
  const wrong = q.error === 'wrong';
  const auth = await currentAuth();
  return (
    <section className="card sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      {!auth.required ? (
        <p>
          This dashboard has no API token: anyone who can open it may launch and cancel sweeps, and there is nothing to sign in to.{' '}
          <Link href={next}>Back</Link>
        </p>
      ) : auth.signedIn ? (
        <>
          <p>You are signed in: this browser may launch and cancel sweeps until you sign out (or for 12 hours).</p>
          <div className="actions">
            <Link href={next} className="btn btn-primary">
              Continue
            </Link>
            <form method="post" action="/auth/sign-out">
              <input type="hidden" name="next" value="/sign-in" />
              <button type="submit" className="btn">
                Sign out
              </button>
            </form>
          </div>
        </>
      ) : (
        <>
          <p className="muted">
            Anyone may watch sweeps, trials and workers here. Launching and cancelling need the coordinator&apos;s API token (<code>LMSWEEP_API_TOKEN</code>
            ): enter it once; this browser then keeps a signed session cookie for 12 hours (the token itself is not stored).
          </p>
          <form method="post" action="/auth/sign-in" className="sign-in-form">
            <input type="hidden" name="next" value={next} />
            <label htmlFor="token" className="label">
              API token
            </label>
            <input
              id="token"
              name="token"
              type="password"
              className="text-input"
              autoComplete="current-password"
              required
              maxLength={500}
              autoFocus
              aria-invalid={wrong || undefined}
              aria-describedby={wrong ? 'sign-in-error' : undefined}
              data-testid="token-input"
            />
            {wrong && (
              <div id="sign-in-error" className="spec-errors" role="alert" data-testid="sign-in-error">
                That is not the API token.
              </div>
            )}
            <div className="actions">
              <button type="submit" className="btn btn-primary" data-testid="sign-in-submit">
                Sign in
              </button>
              <Link href={next} className="muted small">
                Cancel
              </Link>
            </div>
          </form>
        </>
      )}
    </section>
  );
}
