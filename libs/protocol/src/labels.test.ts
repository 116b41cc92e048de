import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configLabels, formatSetting, labelFields, shortNames } from './labels.ts';

// Configs as the sweep stores them (resolved: a method keeps only its own section; svd's unread
// blocks and iters normalized to 1 and 0), for examples/demo.yaml.
const model = { embedding: 128, hidden: 128, layers: 1, dropout: 0, initScale: 0.1 };
const base = {
  dataset: { name: 'ptb', vocabSize: 2000 },
  model,
  training: { batchSize: 20, unroll: 20, optimizer: 'adam', lr: 0.003, lrDecay: 0.5, decayStart: 4, clip: 1, epochs: 1 },
  budget: { maxSteps: 300 },
};
const finetune = { epochs: 1, maxSteps: 100, lr: 0.001, evalEvery: 50 };
const compress = (blocks: number, iters: number, rate = 4) => ({ target: 'both', rate, blocks, iters, finetune });
const demo = {
  dense: { ...base, method: 'dense' },
  phm: { ...base, method: 'phm', model: { ...model, phm: { n: 4, layers: ['gates', 'output'], path: 'auto' } } },
  lowrank: { ...base, method: 'lowrank', model: { ...model, lowrank: { rank: 16, layers: ['gates', 'output'] } } },
  'dense-finetune': { ...base, method: 'dense-finetune', finetune },
  svd: { ...base, method: 'svd', compress: compress(1, 0) },
  groupreduce: { ...base, method: 'groupreduce', compress: compress(10, 5) },
};
const rowsOf = (configs: Record<string, unknown>[], baseline = 'dense') => configs.map((config) => ({ method: (config as { method: string }).method, config, isBaseline: (config as { method: string }).method === baseline }));

describe('configuration labels', () => {
  it("the demo's rows: each names only what its method sets", () => {
    const rows = rowsOf(Object.values(demo));
    expect(configLabels(rows)).toEqual(['dense (baseline)', 'phm n=4', 'lowrank rank 16', 'dense + fine-tune', 'svd rate 4', 'groupreduce rate 4, 10 blocks']);
    // The dashboard shows the baseline as a tag, and prefers the grid's keys (method alone here).
    expect(configLabels(rows, { baselineSuffix: false, prefer: ['method'] })).toEqual(['dense', 'phm n=4', 'lowrank rank 16', 'dense + fine-tune', 'svd rate 4', 'groupreduce rate 4, 10 blocks']);
  });

  it('a field the grid varies is named; a field only one row differs in is named on that row only', () => {
    const hidden = (h: number, method = 'dense', extra: object = {}) => ({ ...base, method, model: { ...model, hidden: h, ...extra } });
    expect(configLabels([32, 64, 128].map((h) => ({ method: 'dense', config: hidden(h), isBaseline: h === 128 })))).toEqual(['dense hidden 32', 'dense hidden 64', 'dense hidden 128 (baseline)']);
    const phm = (h: number, n: number) => hidden(h, 'phm', { phm: { n, layers: ['gates'], path: 'auto' } });
    expect(configLabels(rowsOf([hidden(64), hidden(128), phm(64, 2), phm(64, 4), phm(128, 4)], 'none'))).toEqual(['dense hidden 64', 'dense hidden 128', 'phm n=2, hidden 64', 'phm n=4, hidden 64', 'phm n=4, hidden 128']);
    // A block count of 1 is named when the method's rows differ in it.
    const gr = [1, 10].flatMap((blocks) => [2, 5].map((rate) => ({ ...demo.groupreduce, compress: compress(blocks, 5, rate) })));
    expect(configLabels(rowsOf(gr))).toEqual(['groupreduce rate 2, 1 block', 'groupreduce rate 5, 1 block', 'groupreduce rate 2, 10 blocks', 'groupreduce rate 5, 10 blocks']);
    // The frequency weighting reads as the power of q it weighs words by.
    const weighted = [0.5, 1].map((weightPower) => ({ ...demo.groupreduce, compress: { ...compress(10, 5), weightPower } }));
    expect(configLabels(rowsOf(weighted))).toEqual(['groupreduce rate 4, 10 blocks, weights q^0.5', 'groupreduce rate 4, 10 blocks, weights q^1']);
    // A control trained longer says so; the rows with the common value do not repeat it.
    const longer = { ...demo['dense-finetune'], budget: { maxSteps: 400 } };
    expect(configLabels(rowsOf([demo.dense, demo.svd, longer])).at(-1)).toBe('dense + fine-tune budget.maxSteps 400');
  });

  it('names no field of another method, and nothing all rows of one method share', () => {
    const labels = configLabels(rowsOf(Object.values(demo)));
    const foreign: Record<string, RegExp> = {
      dense: /rate|rank|n=|block|iters|target|finetune|layers|path/,
      phm: /rate|rank|block|iters|target|finetune/,
      lowrank: /rate|n=|block|iters|target|finetune/,
      svd: /rank|n=|block|iters|layers|path/,
      groupreduce: /rank|n=|layers|path|target|finetune/,
    };
    for (const [m, re] of Object.entries(foreign)) expect(labels.find((l) => l.split(' ')[0] === m), m).not.toMatch(re);
  });

  it('grid keys show wherever set, even while one value has finished; names do not clash with any field', () => {
    expect(configLabels([{ method: 'dense', config: demo.dense }], { prefer: ['model.hidden', 'method'] })).toEqual(['dense hidden 128']);
    expect(configLabels([{ method: 'phm', config: { method: 'phm', model: { phm: { n: 2 } } } }], { prefer: ['model.phm.n', 'model.lowrank.rank'] })).toEqual(['phm n=2']);
    // A field every row sets, varying: `training.lr` and `compress.finetune.lr` keep what tells them apart.
    const lrs = [0.01, 0.1].map((lr) => ({ method: 'svd', config: { ...demo.svd, training: { ...base.training, lr }, compress: { ...compress(1, 0), finetune: { ...finetune, lr: lr / 10 } } } }));
    expect(configLabels(lrs)).toEqual(['svd rate 4, training.lr 0.01, finetune.lr 0.001', 'svd rate 4, training.lr 0.1, finetune.lr 0.01']);
    expect(labelFields(lrs)).toEqual([['compress.rate', 'training.lr', 'compress.finetune.lr'], ['compress.rate', 'training.lr', 'compress.finetune.lr']]);
    expect(shortNames(['model.hidden', 'training.lr'], ['model.hidden', 'training.lr', 'finetune.lr'])).toEqual(new Map([['model.hidden', 'hidden'], ['training.lr', 'training.lr']]));
  });

  it('values read as settings; hostile keys are data', () => {
    expect(formatSetting(['gates', 'output'])).toBe('gates+output');
    expect(formatSetting(1 / 3)).toBe('0.3333');
    expect(formatSetting({ a: 1 })).toBe('{"a":1}');
    const evil = JSON.parse('{"method":"dense","__proto__":{"polluted":1},"constructor":{"x":2}}') as unknown;
    expect(configLabels([{ method: 'dense', config: evil }, { method: 'dense', config: { method: 'dense' } }])).toEqual(['dense polluted 1, x 2', 'dense']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(configLabels([{ method: '__proto__' }])).toEqual(['__proto__']);
  });

  it('is browser-safe: imports nothing but methods.ts (no zod)', () => {
    const src = fs.readFileSync(path.join(import.meta.dirname, 'labels.ts'), 'utf8');
    expect([...src.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1])).toEqual(['./methods.ts']);
    expect(fs.readFileSync(path.join(import.meta.dirname, 'limits.ts'), 'utf8')).not.toMatch(/^import /m);
  });
});
