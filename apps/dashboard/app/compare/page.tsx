import type { Metadata } from 'next';
import { Compare } from '../../src/components/Compare';

export const metadata: Metadata = { title: 'Compare' };

/** /compare?sweep=ID&c=KEY&c=KEY…: configurations of one sweep side by side. */
export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const sweep = Array.isArray(sp.sweep) ? sp.sweep[0] : sp.sweep;
  const keys = sp.c === undefined ? [] : Array.isArray(sp.c) ? sp.c : [sp.c];
  return <Compare sweepId={sweep ?? ''} configKeys={keys} />;
}
