import type { Metadata } from 'next';
import { TrialDetail } from '../../../src/components/TrialDetail';

export const metadata: Metadata = { title: 'Trial' };

export default async function TrialPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <TrialDetail id={id} />;
}
