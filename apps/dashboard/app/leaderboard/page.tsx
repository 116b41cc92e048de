import type { Metadata } from 'next';
import { LeaderboardPage } from '../../src/components/LeaderboardPage';

export const metadata: Metadata = { title: 'Leaderboard' };

export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const sweep = Array.isArray(sp.sweep) ? sp.sweep[0] : sp.sweep;
  return <LeaderboardPage sweepId={sweep || undefined} />;
}
