'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect } from 'react';
import { onChange, useStreamState } from '../lib/live';
import { AuthControls } from './auth';

const LINKS = [
  { href: '/', label: 'Sweeps', match: (p: string) => p === '/' || p.startsWith('/sweeps') || p.startsWith('/trials') },
  { href: '/leaderboard', label: 'Leaderboard', match: (p: string) => p.startsWith('/leaderboard') || p.startsWith('/compare') },
  { href: '/workers', label: 'Workers', match: (p: string) => p.startsWith('/workers') },
] as const;

const STATE_TEXT = { live: 'live', connecting: 'connecting…', down: 'reconnecting…' } as const;

export function Nav() {
  const path = usePathname() ?? '/';
  const state = useStreamState();
  // Keep the change stream open on every page (also those with nothing live, like sign-in), so the indicator says how it is.
  useEffect(() => onChange(() => {}), []);
  return (
    <header className="topbar">
      <nav className="topbar-inner" aria-label="Main">
        <Link href="/" className="brand">
          <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="#1f3a5f" />
            <path d="M6 24 L12 14 L17 19 L26 7" fill="none" stroke="#7fd1b9" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          lmsweep
        </Link>
        <ul className="nav-links">
          {LINKS.map((l) => (
            <li key={l.href}>
              <Link href={l.href} className={l.match(path) ? 'active' : undefined} aria-current={l.match(path) ? 'page' : undefined}>
                {l.label}
              </Link>
            </li>
          ))}
        </ul>
        <span className={`stream stream-${state}`} title="Live updates from the coordinator (server-sent events)" data-testid="stream-state">
          <span className="dot" aria-hidden="true" />
          {STATE_TEXT[state]}
        </span>
        <AuthControls />
      </nav>
    </header>
  );
}
