// The studies in examples/studies launch as their comments say: the trials each plans, the
// settings of the Zaremba baseline, and for the PHM study low-rank ranks that match PHM's
// parameter counts within 0.3%.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lstmLmParamCount } from '@lmsweep/nn';
import { type TrialConfig } from '@lmsweep/protocol';
import { parseSweepSpec, prepareSweep } from '@lmsweep/sweep';

const STUDIES = path.resolve(import.meta.dirname, '../../../examples/studies');
const load = (f: string) => prepareSweep(parseSweepSpec(readFileSync(path.join(STUDIES, f), 'utf8')));
const ZAREMBA = { batchSize: 20, unroll: 20, optimizer: 'sgd', lr: 1, lrDecay: 0.5, decayStart: 4, clip: 5, epochs: 13 };
const count = (c: TrialConfig) => lstmLmParamCount(c.dataset.vocabSize ?? 10_000, c.model).total;

describe('examples/studies', () => {
  it('groupreduce-ptb-small: the Zaremba baseline, five methods at rate 5 in 5 blocks, the control, three seeds, the paper beside it', () => {
    const { spec, plans } = load('groupreduce-ptb-small.yaml');
    const methods = plans.map((p) => p.method);
    expect(plans).toHaveLength(3 * 7);
    for (const m of ['dense', 'dense-finetune', 'svd', 'weighted-svd', 'block-weighted-svd', 'dynamic-rank', 'groupreduce']) expect(methods.filter((x) => x === m)).toHaveLength(3);
    const dense = plans.find((p) => p.method === 'dense')!.config;
    expect(dense.training).toMatchObject(ZAREMBA);
    expect(dense.model).toMatchObject({ embedding: 200, hidden: 200, layers: 2, dropout: 0, initScale: 0.1 });
    expect(count(dense)).toBe(4_651_600);
    const gr = plans.find((p) => p.method === 'groupreduce')!.config;
    expect(gr.compress).toMatchObject({ target: 'both', rate: 5, blocks: 5, iters: 5, finetune: { epochs: 1 } });
    expect(gr.compress!.finetune!.lr).toBeUndefined(); // the baseline's final rate
    expect(spec.reference!.rows.map((r) => r.testPpl)).toEqual([114.5, 161.44, 155.1, 135.19, 129.63, 127.26]);
  });

  it('groupreduce-ptb-small-short (the run in docs/studies): the same study but 5 baseline epochs (decay after the 2nd) and a quarter epoch of fine-tuning', () => {
    const full = load('groupreduce-ptb-small.yaml');
    const short = load('groupreduce-ptb-small-short.yaml');
    const { training: _t, compress: _c, ...rest } = full.plans[0]!.config;
    expect(short.plans.map((p) => [p.method, p.seed])).toEqual(full.plans.map((p) => [p.method, p.seed]));
    const dense = short.plans.find((p) => p.method === 'dense')!.config;
    expect(dense).toMatchObject(rest);
    expect(dense.training).toEqual({ ...full.plans[0]!.config.training, decayStart: 2, epochs: 5 });
    const gr = short.plans.find((p) => p.method === 'groupreduce')!.config;
    expect(gr.compress).toEqual({ ...full.plans.find((p) => p.method === 'groupreduce')!.config.compress, finetune: { epochs: 0.25, evalEvery: 290 } });
    expect(short.spec.reference).toEqual(full.spec.reference);
  });

  it('groupreduce-weighting: one baseline, each method on the embedding or the softmax at weights q^0, q^0.5, q^1 and 5 or 20 blocks where it reads them, no fine-tuning', () => {
    const { plans } = load('groupreduce-weighting.yaml');
    expect(plans).toHaveLength(1 + 2 * (1 + 3 + 3 * 6));
    expect(new Set(plans.filter((p) => p.method === 'svd').map((p) => p.config.compress!.target))).toEqual(new Set(['embedding', 'softmax']));
    expect(new Set(plans.filter((p) => p.method !== 'dense').map((p) => p.config.compress!.finetune!.epochs))).toEqual(new Set([0]));
    const gr = plans.filter((p) => p.method === 'groupreduce' && p.config.compress!.target === 'softmax').map((p) => [p.config.compress!.weightPower, p.config.compress!.blocks]);
    expect(gr).toEqual([[0, 5], [0, 20], [0.5, 5], [0.5, 20], [1, 5], [1, 20]]);
  });

  it('phm-ptb: dense, PHM n = 2, 4, 8 and low-rank at the same parameter counts (within 0.3%), three seeds', () => {
    const { plans } = load('phm-ptb.yaml');
    expect(plans).toHaveLength(3 * 7);
    const first = (m: string, pick: (c: TrialConfig) => unknown) => [...new Set(plans.filter((p) => p.method === m && p.seed === 0).map((p) => pick(p.config)))];
    const phm = first('phm', (c) => c.model.phm!.n);
    const ranks = first('lowrank', (c) => c.model.lowrank!.rank);
    expect(phm).toEqual([2, 4, 8]);
    expect(ranks).toEqual([93, 46, 23]);
    const params = (m: string) => plans.filter((p) => p.method === m && p.seed === 0).map((p) => count(p.config));
    const [p, l] = [params('phm'), params('lowrank')];
    expect(p).toEqual([3_331_640, 2_671_920, 2_344_160]);
    for (let i = 0; i < 3; i++) expect(Math.abs(l[i]! / p[i]! - 1)).toBeLessThan(0.003);
    for (const x of plans) expect(x.config.training).toMatchObject(ZAREMBA);
  });

  it('phm-ptb-short (the run in docs/studies): the same trials, each trained one epoch at lr 1', () => {
    const full = load('phm-ptb.yaml');
    const short = load('phm-ptb-short.yaml');
    expect(short.plans).toHaveLength(full.plans.length);
    full.plans.forEach((f, i) => {
      const { training, budget, ...rest } = short.plans[i]!.config;
      const { training: ft, budget: _b, ...frest } = f.config;
      expect([short.plans[i]!.method, short.plans[i]!.seed, rest]).toEqual([f.method, f.seed, frest]);
      expect(training).toEqual({ ...ft, epochs: 1 });
      expect(budget.evalEvery).toBe(775);
    });
    expect(short.spec.reference!.rows).toEqual(full.spec.reference!.rows);
  });
});
