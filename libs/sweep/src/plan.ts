// Planning one configuration: the trials one point of a sweep adds for its seeds, with the dense
// baseline a compression method (or the control) starts from and, with compress.control, the
// "dense + fine-tune" control, each added once per sweep and seed however many configurations
// share it. The grid expansion is a loop over its points; a sweep that grows while it runs plans
// each new point (or each new seed) the same way, against the trials it already holds.
import { baselineConfigOf, controlConfigOf, hasControl, type GridValue, isCompressionMethod, startsFromBaseline, type SweepSpec, type TrialConfig, type TrialPlan } from '@lmsweep/protocol';
import { configFor, configKey } from './config.ts';

/** What planning needs of a trial already planned or stored. */
export type PlannedTrial = Pick<TrialPlan, 'ordinal' | 'configKey' | 'seed'>;

/**
 * The trials a sweep holds, by configuration and seed, and where new ordinals start: one past the
 * highest ordinal it holds (ordinals are unique in a sweep and never reused, so appended trials
 * queue after the existing ones and their parents are named by ordinal, stored or new). Build it
 * from the plans of the expansion so far, or from a sweep's stored trials.
 */
export class PlanIndex {
  private readonly ordinals = new Map<string, number>();
  private next = 0;

  constructor(planned: Iterable<PlannedTrial> = []) {
    this.add(planned);
  }

  /** Records trials as planned (e.g. those planConfiguration returned, once they are kept). */
  add(planned: Iterable<PlannedTrial>): void {
    for (const p of planned) {
      this.ordinals.set(slot(p.configKey, p.seed), p.ordinal);
      this.next = Math.max(this.next, p.ordinal + 1);
    }
  }

  /** The ordinal of configuration `configKey`'s trial with `seed`, if there is one. */
  ordinalOf(configKey: string, seed: number): number | undefined {
    return this.ordinals.get(slot(configKey, seed));
  }

  /** The ordinal the next new trial gets. */
  get nextOrdinal(): number {
    return this.next;
  }
}

const slot = (configKey: string, seed: number) => `${configKey}/${seed}`;

/**
 * The new trials the spec's configuration at `point` (dotted path → value) needs for `seeds`,
 * given what is `planned` already (left unchanged: add the result to it once it is kept). A seed
 * the configuration already has adds nothing. A compression trial or a dense-finetune control
 * depends on the dense trial of its configuration with the same seed (its baseline; parentOrdinal
 * names it): when that is not planned, it comes first. With compress.control, a compression
 * trial's control (its baseline fine-tuned alike, controlConfigOf) is added the same way, once
 * per baseline, seed and fine-tuning setting, right before its first compression trial. Ordinals
 * continue from planned.nextOrdinal, seed by seed. The point is not validated here: pointIssues
 * (or parseSweepSpec for a grid) says whether it can run.
 */
export function planConfiguration(spec: SweepSpec, point: Record<string, GridValue>, seeds: readonly number[], planned: PlanIndex): TrialPlan[] {
  const config = configFor(spec, point);
  const key = configKey(config);
  const missing = seeds.filter((seed) => planned.ordinalOf(key, seed) === undefined);
  if (!missing.length) return [];
  const plans: TrialPlan[] = [];
  const mine = new Map<string, number>();
  const ordinalOf = (k: string, seed: number) => mine.get(slot(k, seed)) ?? planned.ordinalOf(k, seed);
  const add = (c: TrialConfig, k: string, seed: number, parentOrdinal?: number): number => {
    const plan: TrialPlan = { ordinal: planned.nextOrdinal + plans.length, config: c, configKey: k, method: c.method, seed, maxAttempts: spec.maxAttempts };
    if (parentOrdinal !== undefined) plan.parentOrdinal = parentOrdinal;
    mine.set(slot(k, seed), plan.ordinal);
    plans.push(plan);
    return plan.ordinal;
  };
  const parent = startsFromBaseline(config.method) ? baselineConfigOf(config) : undefined;
  const parentKey = parent && configKey(parent);
  const control = hasControl(spec) && isCompressionMethod(config.method) ? controlConfigOf(config) : undefined;
  const controlKey = control && configKey(control);
  for (const seed of missing) {
    if (!parent || !parentKey) {
      add(config, key, seed);
      continue;
    }
    const parentOrdinal = ordinalOf(parentKey, seed) ?? add(parent, parentKey, seed);
    if (control && controlKey && ordinalOf(controlKey, seed) === undefined) add(control, controlKey, seed, parentOrdinal);
    add(config, key, seed, parentOrdinal);
  }
  return plans;
}
