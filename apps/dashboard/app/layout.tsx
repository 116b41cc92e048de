import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { AuthProvider } from '../src/components/auth';
import { Nav } from '../src/components/Nav';
import { currentAuth } from '../src/server/auth-state';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'lmsweep', template: '%s · lmsweep' },
  description: 'Sweeps, trials, workers and leaderboards of lmsweep',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const auth = await currentAuth();
  return (
    <html lang="en">
      <body>
        <AuthProvider initial={auth}>
          <Nav />
          <main className="page">{children}</main>
        </AuthProvider>
      </body>
    </html>
  );
}
