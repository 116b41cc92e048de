// buildReport's warning on unequal budgets: a compression sweep without its dense + fine-tune
// control compares models that trained unequally long, and the report says by how much.
import { describe, expect, it } from 'vitest';
import { buildReport, type ReportConfiguration, type ReportInput, type ReportTrial } from './model.ts';

const sweep: ReportInput['sweep'] = { id: 's', name: 'budget', status: 'succeeded', spec: {}, specText: '', createdAt: '2030-01-01T00:00:00Z' };
const trial = (id: string, method: string, parentId: string | null, result: object): ReportTrial => ({
  id, configKey: id, method, config: { method }, seed: 0, status: 'succeeded', parentId, params: 100, validPpl: 100, testPpl: 99, seconds: 1, steps: 1, rung: null, leaseOwner: 'w', result,
});
const config = (t: ReportTrial, isBaseline = false): ReportConfiguration => ({ configKey: t.id, method: t.method, config: t.config, params: 100, seeds: [0], trialIds: [t.id], paretoRank: 0, compression: isBaseline ? 1 : 2, isBaseline });
const finetune = (steps: number) => ({ finetune: { steps, lr: 0.1, validPplBefore: 130, validPplLast: 101, bestStep: steps } });

describe('buildReport warnings', () => {
  const dense = trial('d', 'dense', null, {});
  const svd = trial('v', 'svd', 'd', finetune(580));
  it('a compression sweep without its control: warned, naming the extra steps', () => {
    const r = buildReport({ sweep, configurations: [config(dense, true), config(svd)], trials: [dense, svd] });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/No dense \+ fine-tune control: each compressed configuration trained 580 fine-tuning steps/);
  });
  it('with the control, or without fine-tuning: no warning', () => {
    const control = trial('c', 'dense-finetune', 'd', finetune(580));
    expect(buildReport({ sweep, configurations: [config(dense, true), config(svd), config(control)], trials: [dense, svd, control] }).warnings).toEqual([]);
    const bare = trial('b', 'svd', 'd', finetune(0));
    expect(buildReport({ sweep, configurations: [config(dense, true), config(bare)], trials: [dense, bare] }).warnings).toEqual([]);
  });
});
