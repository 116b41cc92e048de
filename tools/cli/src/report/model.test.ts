// buildReport's warning on unequal budgets (a compression sweep without its dense + fine-tune
// control compares models that trained unequally long, and the report says by how much), and
// which configurations it pairs: PHM with the low-rank one trained alike, nearest in parameters.
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

describe('buildReport comparisons', () => {
  it('pairs PHM with the low-rank configuration trained alike (the same learning rate), nearest in parameters', () => {
    const at = (id: string, method: string, lr: number, params: number, seedPpl: [number, number]): [ReportTrial[], ReportConfiguration] => {
      const cfg = { method, training: { lr }, model: method === 'phm' ? { phm: { n: 8 } } : { lowrank: { rank: params / 100 } } };
      const ts = seedPpl.map((v, seed) => ({ ...trial(`${id}${seed}`, method, null, {}), configKey: id, config: cfg, seed, params, validPpl: v, testPpl: v - 5 }));
      return [ts, { configKey: id, method, config: cfg, params, seeds: [0, 1], trialIds: ts.map((t) => t.id), paretoRank: 0, compression: null, isBaseline: false }];
    };
    const rows = [at('p5', 'phm', 0.5, 2300, [180, 181]), at('p25', 'phm', 0.25, 2300, [201, 194]), at('l5', 'lowrank', 0.5, 2600, [226, 222]), at('l25', 'lowrank', 0.25, 2600, [262, 261]), at('l5x', 'lowrank', 0.5, 9000, [150, 150])];
    const r = buildReport({ sweep, configurations: rows.map((x) => x[1]), trials: rows.flatMap((x) => x[0]) });
    const n = (key: string) => r.configurations[rows.findIndex((x) => x[1].configKey === key)]!.n;
    const against = (key: string) => r.comparisons.filter((c) => c.a === n(key) && c.against === 'low-rank nearest in parameters').map((c) => c.b);
    // lr 0.25 against lr 0.25 (not the lr 0.5 one, equally near); lr 0.5 against the nearer of the two lr 0.5 ones.
    expect(against('p25')).toEqual([n('l25')]);
    expect(against('p5')).toEqual([n('l5')]);
  });
});

