// The claim statement alone (`lmsweep bench load`'s second table): TrialStore.claimMany for 1 and
// for 100 workers at a given number of queued trials, spread over several sweeps (claims read the
// queue order through its index, whatever the number of sweeps), on one database. No websocket,
// no group commit: what one claim statement costs the database.
import { openDatabase, TrialStore } from '@lmsweep/db';
import { type SweepSpec, type TrialPlan } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';

export interface ClaimLatency {
  database: string;
  /** Trials queued when the measurement started. */
  queued: number;
  sweeps: number;
  /** Workers served by one claimMany statement. */
  batch: number;
  /** Statements measured. */
  runs: number;
  p50Ms: number;
  p90Ms: number;
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
const round2 = (v: number) => Number(v.toFixed(2));

/** `n` dense trial plans (learning rates × seeds), as a sweep of that many trials. */
function plansFor(name: string, n: number): { spec: SweepSpec; plans: TrialPlan[] } {
  const l = Math.min(n, 1_000);
  const lrs = Array.from({ length: l }, (_, k) => Number((0.001 * (k + 1)).toFixed(3)));
  const spec = parseSweepSpec({ name, dataset: { name: 'ptb', vocabSize: 10 }, grid: { 'training.lr': lrs }, seeds: Math.ceil(n / l) });
  return { spec, plans: expandSweep(spec).slice(0, n) };
}

/**
 * Queues `queued` trials over `sweeps` sweeps on a fresh database at `url`, then times
 * claimMany: up to 100 statements for one worker, then up to 30 for a hundred.
 */
export async function claimLatency(database: string, url: string, queued: number, sweeps: number): Promise<ClaimLatency[]> {
  // Claims use the queue up: at most 80% of it (100 single claims, up to 30 of a hundred, 3 warm-ups each).
  const runs1 = Math.max(1, Math.min(100, Math.floor(queued * 0.2)));
  const runs100 = Math.max(1, Math.min(30, Math.floor((queued * 0.8 - runs1 - 303) / 100)));
  const db = await openDatabase({ url });
  try {
    const store = new TrialStore(db);
    const per = Math.ceil(queued / sweeps);
    for (let i = 0, left = queued; left > 0; i++, left -= per) {
      const { spec, plans } = plansFor(`claims-${i}`, Math.min(per, left));
      await store.createSweep({ name: spec.name, spec, specText: '', plans });
    }
    const out: ClaimLatency[] = [];
    let w = 0;
    for (const [batch, runs] of [[1, runs1], [100, runs100]] as const) {
      // A few unmeasured statements first: plans cached, pages warm.
      for (let i = 0; i < 3; i++) await store.claimMany(Array.from({ length: batch }, () => `warm-${w++}`), 60_000);
      const ms: number[] = [];
      const before = await db.prisma.trial.count({ where: { status: 'queued' } });
      for (let i = 0; i < runs; i++) {
        const workers = Array.from({ length: batch }, () => `w-${w++}`);
        const t0 = performance.now();
        const got = await store.claimMany(workers, 60_000);
        ms.push(performance.now() - t0);
        if (got.some((t) => t === null)) throw new Error('the queue ran dry: queue more trials');
      }
      ms.sort((a, b) => a - b);
      out.push({ database, queued: before, sweeps, batch, runs, p50Ms: round2(quantile(ms, 0.5)), p90Ms: round2(quantile(ms, 0.9)) });
    }
    return out;
  } finally {
    await db.close();
  }
}
