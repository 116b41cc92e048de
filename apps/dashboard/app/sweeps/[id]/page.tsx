import type { Metadata } from 'next';
import { SweepDetail } from '../../../src/components/SweepDetail';

export const metadata: Metadata = { title: 'Sweep' };

export default async function SweepPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <SweepDetail id={id} />;
}
