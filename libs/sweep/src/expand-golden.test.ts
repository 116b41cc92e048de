// The grid expansion pinned down: every example spec and the expand tests' specs (plus a few that
// share baselines and controls across points) expand to exactly the plans recorded in
// expand-golden.json when it was written (ordinals, methods, seeds, configKeys, parent links, and
// a sha256 of the whole plan list as JSON, configs included). Refactors of the planning must keep
// it; regenerate (`npx vitest run libs/sweep/src/expand-golden.test.ts -u`) only when the
// expansion is meant to change, and say so.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandSweep, parseSweepSpec } from './expand.ts';

const EXAMPLES = path.resolve(import.meta.dirname, '../../../examples');

const tiny = { name: 'c', dataset: { name: 'ptb', vocabSize: 300 }, model: { embedding: 64, hidden: 32, layers: 2 } };
const ptb = { name: 'paper', dataset: 'ptb', model: { embedding: 200, hidden: 200, layers: 2 } };
const ctl = { name: 'c', dataset: { name: 'ptb', vocabSize: 360 }, model: { embedding: 40, hidden: 40, layers: 1 }, seeds: 2 };
const finetune = { rate: 4, blocks: 5, finetune: { maxSteps: 10, lr: 0.002, evalEvery: 5 } };

const CASES: [string, unknown][] = [
  // The examples at the time of writing (a new example, e.g. a sampled sweep's, is not a grid to pin).
  ...['demo.yaml', 'phm.yaml', 'sizes.yaml', 'smoke.yaml'].map((f): [string, unknown] => [`examples/${f}`, readFileSync(path.join(EXAMPLES, f), 'utf8')]),
  ['hidden × lr × 3 seeds', 'name: t\ndataset: { name: ptb, vocabSize: 500 }\nmodel: { hidden: 16, embedding: 16, layers: 1 }\nbudget: { maxSteps: 5 }\ngrid:\n  model.hidden: [16, 32]\n  training.lr: [0.5, 1]\nseeds: 3\nbaseline: { model.hidden: 32, training.lr: 1 }\n'],
  ['no grid', tiny],
  ['method × phm.n × lowrank.rank', { ...tiny, grid: { method: ['dense', 'phm', 'lowrank'], 'model.phm.n': [2, 4], 'model.lowrank.rank': [4, 8] } }],
  ['method phm, defaults', { ...tiny, method: 'phm' }],
  ['every compression method, rate 5 in 5 blocks', { ...ptb, compress: { target: 'both', rate: 5, blocks: 5 }, grid: { method: ['svd', 'weighted-svd', 'block-weighted-svd', 'dynamic-rank', 'groupreduce'] } }],
  ['dense, svd, groupreduce', { ...ctl, compress: finetune, grid: { method: ['dense', 'svd', 'groupreduce'] } }],
  ['dense, svd, groupreduce with the control', { ...ctl, compress: { ...finetune, control: true }, grid: { method: ['dense', 'svd', 'groupreduce'] } }],
  ['svd alone with the control', { ...ctl, seeds: 1, compress: { ...finetune, control: true }, method: 'svd' }],
  ['control per fine-tuning lr', { ...ctl, seeds: 1, compress: { ...finetune, control: true }, grid: { method: ['svd', 'groupreduce'], 'compress.finetune.lr': [0.001, 0.01] } }],
  ['dense-finetune named in the grid', { ...ctl, seeds: 1, compress: { ...finetune, control: true }, grid: { method: ['dense-finetune', 'svd'] } }],
  ['dense-finetune alone', { ...ctl, seeds: 1, compress: finetune, method: 'dense-finetune' }],
  ['a dataset named constructor', { name: 'x', dataset: 'constructor', method: 'phm', model: { embedding: 8, hidden: 8, layers: 1, phm: { n: 2, layers: ['gates', 'output'] } } }],
  ['baseline named after its dependents', { ...ctl, compress: { ...finetune, control: true }, grid: { method: ['svd', 'dense', 'dense-finetune'] } }],
  ['baselines and controls shared across points, seeds listed', { ...ctl, seeds: [3, 1], compress: { ...finetune, control: true }, grid: { 'training.lr': [1, 0.5], method: ['groupreduce', 'dense', 'svd'], 'compress.iters': [3, 5] }, maxAttempts: 5 }],
];

function summary(input: unknown) {
  const plans = expandSweep(parseSweepSpec(input));
  return {
    sha256: createHash('sha256').update(JSON.stringify(plans)).digest('hex'),
    plans: plans.map((p) => `${p.ordinal} ${p.method} seed=${p.seed} key=${p.configKey} parent=${p.parentOrdinal ?? '-'} attempts=${p.maxAttempts}`),
  };
}

describe('grid expansion, pinned', () => {
  it('expands every recorded spec to the recorded plans', async () => {
    const got = Object.fromEntries(CASES.map(([name, input]) => [name, summary(input)]));
    await expect(`${JSON.stringify(got, null, 1)}\n`).toMatchFileSnapshot('./expand-golden.json');
  });
});
