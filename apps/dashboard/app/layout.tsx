import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { Nav } from '../src/components/Nav';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'lmsweep', template: '%s · lmsweep' },
  description: 'Sweeps, trials, workers and leaderboards of lmsweep',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Nav />
        <main className="page">{children}</main>
      </body>
    </html>
  );
}
