// The growth step of sweeps that grow (seeds until the interval is tight, a sampled search): after
// a trial of such a sweep ends (a result committed, a final failure; seen as a database change,
// so a result committed through another coordinator counts too), and for every running growing
// sweep when the coordinator starts or its change feed reconnects, it locks the sweep, asks the
// growth decision (libs/sweep planGrowth: a pure function of the spec and the stored trials) what
// to add, and appends it — or, when nothing more is needed and nothing is queued or running, ends
// the sweep. Everything it needs is in the database, so a coordinator restarted mid-sweep carries
// on where the last one stopped, and several coordinators on one PostgreSQL take turns on the
// sweep's lock: each decision sees what the others appended. A sweep that runs again (an
// extension: e.g. more configurations for its search) gets a step too.
import type { Logger } from 'pino';
import { SweepSpec } from '@lmsweep/protocol';
import { planGrowth } from '@lmsweep/sweep';
import type { Change, TrialStore } from '@lmsweep/db';
import { SweepSteps } from './sweep-steps.ts';

export interface SweepGrowthOptions {
  store: TrialStore;
  log: Logger;
}

/** Sweeps remembered as growing or not (it never changes); forgotten past this many. */
const MAX_REMEMBERED = 10_000;

export class SweepGrowth {
  private readonly grows = new Map<string, boolean>();
  private readonly steps = new SweepSteps((sweepId) => this.step(sweepId));

  constructor(private readonly opts: SweepGrowthOptions) {}

  /** Looks at every running sweep that grows (at start, and after missed changes). */
  async resume(): Promise<void> {
    try {
      for (const id of await this.opts.store.growingSweeps()) {
        this.grows.set(id, true);
        this.steps.poke(id);
      }
    } catch (e) {
      this.opts.log.error({ err: e }, 'growth: listing the growing sweeps failed');
    }
  }

  /** A database change: a trial of a sweep that grows has ended, or such a sweep runs (again: extended). */
  onChange(c: Change): void {
    const sweepId = c.kind === 'trial' && (c.status === 'succeeded' || c.status === 'failed' || c.status === 'pruned') ? c.sweepId : c.kind === 'sweep' && c.status === 'running' ? c.id : undefined;
    if (!sweepId || this.grows.get(sweepId) === false) return;
    this.steps.poke(sweepId);
  }

  /** Waits for the steps under way; no new ones start. */
  close(): Promise<void> {
    return this.steps.close();
  }

  /** Steps under way (for tests). */
  get busy(): number {
    return this.steps.busy;
  }

  private async step(sweepId: string): Promise<void> {
    const { store, log } = this.opts;
    try {
      let grows = this.grows.get(sweepId);
      if (grows === undefined) {
        grows = (await store.sweepGrows(sweepId)) ?? false;
        if (this.grows.size >= MAX_REMEMBERED) this.grows.clear();
        this.grows.set(sweepId, grows);
      }
      if (!grows) return;
      let decision: ReturnType<typeof planGrowth> | undefined;
      const out = await store.appendPlans(sweepId, (state) => {
        if (state.sweep.status !== 'running') return null;
        const spec = SweepSpec.safeParse(state.sweep.spec);
        if (!spec.success) {
          log.error({ sweepId, issues: spec.error.issues.slice(0, 3) }, 'growth: the sweep\'s stored spec does not read; it is left as it is');
          return null;
        }
        const d = planGrowth(spec.data, state.trials, state.sweep.search);
        decision = d;
        return { plans: d.plans, done: d.plans.length === 0, ...(d.searchChanged ? { search: d.search } : {}) };
      });
      const d = decision as ReturnType<typeof planGrowth> | undefined;
      const chosen = d?.chosen?.length ? { chosen: d.chosen.length, rejected: d.rejected } : {};
      if (out.status === 'appended') log.info({ sweepId, trials: out.trials.length, seeded: d?.seeded, ...chosen }, 'growth: trials appended');
      else if (out.status === 'unchanged' && out.sweepStatus !== 'running') log.info({ sweepId, status: out.sweepStatus }, 'growth: the sweep needs no more trials');
    } catch (e) {
      log.error({ err: e, sweepId }, 'growth step failed');
    }
  }
}
