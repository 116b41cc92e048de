// What a report reads from the coordinator's API: the sweep, its ranked configurations, every
// trial (paged), and the validation curve of each ranked trial (stitched from its attempts when
// it was paused and resumed).
import { apiClient } from '../client.ts';
import type { ReportInput, ReportTrial } from './model.ts';

/** Curves are fetched for at most this many configurations (the first by Pareto rank); the rest are in the tables only. */
export const CURVE_CONFIGURATIONS = 60;
const PAGE = 10_000;

interface CurveTrial {
  attempt: number;
  status: string;
  segments: unknown;
  curves: { attempt: number; name: string; points: { step: number; value: number | null }[] }[];
}

/** A trial's validation curve: each paused attempt's points up to where it paused, then the last attempt's. */
export function validationCurve(t: CurveTrial): { step: number; value: number | null }[] {
  const segments = Array.isArray(t.segments) ? (t.segments as { attempt: number; through: number }[]) : [];
  const of = (attempt: number) => t.curves.find((c) => c.attempt === attempt && c.name === 'valid_ppl')?.points ?? [];
  const out: { step: number; value: number | null }[] = [];
  let after = -1;
  for (const s of segments) {
    out.push(...of(s.attempt).filter((p) => p.step > after && p.step <= s.through));
    after = s.through;
  }
  out.push(...of(t.attempt).filter((p) => p.step > after));
  return out.map((p) => ({ step: p.step, value: p.value }));
}

export async function fetchReportInput(url: string, token: string | undefined, sweepId: string, progress: (done: number, total: number) => void): Promise<ReportInput> {
  const api = apiClient(url, token);
  const sweep = await api.sweeps.get.query({ id: sweepId });
  const configurations = await api.leaderboard.list.query({ sweepId, sort: 'pareto' });
  const trials: ReportTrial[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await api.trials.list.query({ sweepId, limit: PAGE, offset, sort: 'ordinal', order: 'asc' });
    trials.push(...page.items);
    if (page.items.length < PAGE) break;
  }
  const ids = configurations.slice(0, CURVE_CONFIGURATIONS).flatMap((c) => c.trialIds);
  const curves = new Map<string, { step: number; value: number | null }[]>();
  let done = 0;
  const step = Math.max(1, Math.ceil(ids.length / 10));
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        curves.set(id, validationCurve(await api.trials.get.query({ id })));
        if (++done % step === 0 || done === ids.length) progress(done, ids.length);
      }
    }),
  );
  return { sweep, configurations, trials, curves };
}
