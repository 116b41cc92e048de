// A spec checked for launch in one call: parsed, checked by the host's extra checks (its
// datasets), expanded. What the coordinator runs off its event loop for `validate` and `create`.
import { type FieldIssue, SpecError, type SweepSpec, type TrialPlan } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from './expand.ts';
import { isSampledSpec } from './sampled-spec.ts';

/** A spec as the API receives it: YAML/JSON text or an already parsed object. */
export type SpecInput = string | Record<string, unknown>;

export interface PreparedSweep {
  spec: SweepSpec;
  plans: TrialPlan[];
}

/** What `validate` answers: the issues, or how many trials the sweep would queue. */
export interface SpecValidation {
  ok: boolean;
  issues: FieldIssue[];
  trials: number;
}

/** Extra checks a host makes (e.g. that each dataset exists where its workers look). */
export type ExtraSpecCheck = (spec: SweepSpec) => FieldIssue[];

/** Parses, checks and expands a spec; throws SpecError naming each bad field. */
export function prepareSweep(input: SpecInput, extra?: ExtraSpecCheck): PreparedSweep {
  const spec = parseSweepSpec(input);
  if (isSampledSpec(spec)) throw new SpecError([{ path: 'search', message: 'the spec is valid, but this coordinator cannot run sampled sweeps (search:) yet; use grid:' }]);
  const issues = extra?.(spec) ?? [];
  if (issues.length) throw new SpecError(issues);
  return { spec, plans: expandSweep(spec) };
}

/** prepareSweep's verdict without the plans: a refusal is an answer, not an error. */
export function validateSpec(input: SpecInput, extra?: ExtraSpecCheck): SpecValidation {
  try {
    return { ok: true, issues: [], trials: prepareSweep(input, extra).plans.length };
  } catch (e) {
    if (e instanceof SpecError) return { ok: false, issues: e.issues, trials: 0 };
    throw e;
  }
}
