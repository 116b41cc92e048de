'use client';
// Whether this dashboard asks its users to sign in before launching or cancelling (it has an API
// token), and whether this browser has. The layout renders it from the request's cookie; the page
// asks /auth/session again on load (a SameSite=Strict cookie does not come with a navigation
// from another site).
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';

export interface AuthState {
  /** The dashboard has an API token: writes need a signed-in session. */
  required: boolean;
  signedIn: boolean;
}

const AuthContext = createContext<AuthState>({ required: false, signedIn: false });

export function AuthProvider({ initial, children }: { initial: AuthState; children: ReactNode }) {
  const [state, setState] = useState(initial);
  useEffect(() => {
    const ac = new AbortController();
    fetch('/auth/session', { signal: ac.signal, cache: 'no-store' })
      .then((r) => (r.ok ? (r.json() as Promise<AuthState>) : null))
      .then((s) => s && setState({ required: s.required, signedIn: s.signedIn }))
      .catch(() => {});
    return () => ac.abort();
  }, []);
  return <AuthContext.Provider value={state}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState & { canWrite: boolean } {
  const s = useContext(AuthContext);
  return { ...s, canWrite: !s.required || s.signedIn };
}

/** /sign-in, coming back to this page afterwards. */
export function useSignInHref(): string {
  const path = usePathname() ?? '/';
  return `/sign-in?next=${encodeURIComponent(path)}`;
}

/** "Sign in" where a write needs it: a link to the sign-in page that comes back here. */
export function SignInLink({ children, className, testId }: { children: ReactNode; className?: string; testId?: string }) {
  const href = useSignInHref();
  return (
    <Link href={href} className={className} data-testid={testId} prefetch={false}>
      {children}
    </Link>
  );
}

/** The header's sign-in state: nothing without an API token. */
export function AuthControls() {
  const auth = useAuth();
  const path = usePathname() ?? '/';
  if (!auth.required) return null;
  if (!auth.signedIn) {
    return path === '/sign-in' ? null : (
      <SignInLink className="nav-auth" testId="sign-in-link">
        Sign in
      </SignInLink>
    );
  }
  return (
    <form method="post" action="/auth/sign-out" className="nav-auth-form">
      <input type="hidden" name="next" value={path === '/sign-in' ? '/' : path} />
      <span className="nav-auth-state">signed in</span>
      <button type="submit" className="nav-auth" data-testid="sign-out">
        Sign out
      </button>
    </form>
  );
}
