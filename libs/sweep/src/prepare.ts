// A spec checked for launch in one call: parsed, checked by the host's extra checks (its
// datasets), expanded (a grid) or its first configurations sampled (a search). What the
// coordinator runs off its event loop for `validate` and `create`.
import { CompressOptions, type FieldIssue, isCompressionMethod, SpecError, type SearchState, type SweepSpec, type TrialPlan } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from './expand.ts';
import { planGrowth } from './grow.ts';
import { isSampledSpec, sweepMethods } from './sampled-spec.ts';

/** A spec as the API receives it: YAML/JSON text or an already parsed object. */
export type SpecInput = string | Record<string, unknown>;

export interface PreparedSweep {
  spec: SweepSpec;
  /** The trials queued at launch: the whole grid, or a search's first configurations (search.parallel of them). */
  plans: TrialPlan[];
  /** A sampled sweep's search state after its first choices (stored on the sweep). */
  search?: SearchState;
}

/** What `validate` answers: the issues, or how many trials the sweep would queue. */
export interface SpecValidation {
  ok: boolean;
  issues: FieldIssue[];
  /** Trials queued at launch (a search: its first configurations'). */
  trials: number;
  /** A sampled sweep: its sampler, budget of configurations and how many run at once. */
  search?: { sampler: string; configurations: number; parallel: number };
}

/** Extra checks a host makes (e.g. that each dataset exists where its workers look). */
export type ExtraSpecCheck = (spec: SweepSpec) => FieldIssue[];

/**
 * A new compression sweep plans the dense + fine-tune control unless it says
 * `compress.control: false`: each compression is then compared with its baseline trained as long,
 * equal budgets by construction. Written into the spec it stores, so a sweep stored before this
 * default (no `control`, no control planned) expands as it did.
 */
export function withControl(spec: SweepSpec): SweepSpec {
  if (spec.compress?.control !== undefined) return spec;
  if (!sweepMethods(spec).some((m) => typeof m === 'string' && isCompressionMethod(m))) return spec;
  return { ...spec, compress: CompressOptions.parse({ ...spec.compress, control: true }) };
}

/** Parses, checks and expands a spec (a search: samples its first configurations); throws SpecError naming each bad field. */
export function prepareSweep(input: SpecInput, extra?: ExtraSpecCheck): PreparedSweep {
  const spec = withControl(parseSweepSpec(input));
  const issues = extra?.(spec) ?? [];
  if (issues.length) throw new SpecError(issues);
  if (!isSampledSpec(spec)) return { spec, plans: expandSweep(spec) };
  const first = planGrowth(spec, []);
  if (!first.plans.length) throw new SpecError([{ path: 'space', message: `no feasible point found: ${first.search?.reasons.map((r) => `${r.path} (${r.count}×, e.g. ${r.example})`).join('; ') || 'the sampler gave none'}` }]);
  return { spec, plans: first.plans, search: first.search! };
}

/** prepareSweep's verdict without the plans: a refusal is an answer, not an error. */
export function validateSpec(input: SpecInput, extra?: ExtraSpecCheck): SpecValidation {
  try {
    const { spec, plans } = prepareSweep(input, extra);
    const s = spec.search;
    return { ok: true, issues: [], trials: plans.length, ...(s ? { search: { sampler: s.sampler, configurations: s.trials, parallel: s.parallel } } : {}) };
  } catch (e) {
    if (e instanceof SpecError) return { ok: false, issues: e.issues, trials: 0 };
    throw e;
  }
}
