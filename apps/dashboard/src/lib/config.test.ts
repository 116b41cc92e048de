import fs from 'node:fs';
import path from 'node:path';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { describe, expect, it } from 'vitest';
import { methodLabel } from '@lmsweep/protocol/methods';
import { configLabels, distinguishingPaths, formatSetting } from './config';

const base = { dataset: { name: 'ptb', vocabSize: 2000 }, model: { embedding: 128, hidden: 128, layers: 1 }, training: { lr: 0.003 } };
const compress = (rate: number, blocks: number, iters: number) => ({ target: 'both', rate, blocks, iters, finetune: { maxSteps: 100, lr: 0.001 } });

describe('configuration labels', () => {
  it('name only what each method sets: nothing of another method, nothing all of one method share', () => {
    const items = [
      { method: 'dense', config: { method: 'dense', ...base } },
      { method: 'phm', config: { method: 'phm', ...base, model: { ...base.model, phm: { n: 4, layers: ['gates', 'output'] } } } },
      { method: 'lowrank', config: { method: 'lowrank', ...base, model: { ...base.model, lowrank: { rank: 16, layers: ['gates'] } } } },
      { method: 'svd', config: { method: 'svd', ...base, compress: compress(4, 1, 0) } },
      { method: 'groupreduce', config: { method: 'groupreduce', ...base, compress: compress(4, 10, 5) } },
    ];
    expect(distinguishingPaths(items, ['method'])).toEqual([[], [], [], [], []]);
    expect(configLabels(items, ['method'])).toEqual(['dense', 'phm', 'lowrank', 'svd', 'groupreduce']);
  });

  it('a swept option is named where its method sets it, short names unless they clash', () => {
    const items = [4, 2].flatMap((rate) => ['svd', 'groupreduce'].map((method) => ({ method, config: { method, ...base, compress: compress(rate, method === 'svd' ? 1 : 10, method === 'svd' ? 0 : 5) } })));
    items.push({ method: 'dense', config: { method: 'dense', ...base } } as (typeof items)[number]);
    expect(configLabels(items, ['method', 'compress.rate'])).toEqual(['svd rate=4', 'groupreduce rate=4', 'svd rate=2', 'groupreduce rate=2', 'dense']);
    // A field all configurations set, varying, is named for each; `training.lr` and `compress.finetune.lr` keep two parts.
    const lrs = [0.01, 0.1].map((lr) => ({ method: 'svd', config: { method: 'svd', ...base, training: { lr }, compress: { ...compress(4, 1, 0), finetune: { lr: lr / 10 } } } }));
    expect(configLabels(lrs)).toEqual(['svd training.lr=0.01, finetune.lr=0.001', 'svd training.lr=0.1, finetune.lr=0.01']);
  });

  it('a control of the same method is told apart by what it adds (derived, not a list of methods)', () => {
    const items = [
      { method: 'dense', config: { method: 'dense', ...base } },
      { method: 'dense', config: { method: 'dense', ...base, finetune: { maxSteps: 100 } } },
      { method: 'svd', config: { method: 'svd', ...base, compress: compress(4, 1, 0) } },
    ];
    expect(configLabels(items, ['method'])).toEqual(['dense', 'dense finetune.maxSteps=100', 'svd']);
  });

  it('grid keys show even while one value has finished; values read as settings', () => {
    expect(configLabels([{ method: 'dense', config: { method: 'dense', ...base } }], ['model.hidden', 'method'])).toEqual(['dense hidden=128']);
    expect(configLabels([{ method: 'phm', config: { method: 'phm', model: { phm: { n: 2 } } } }], ['model.phm.n', 'model.lowrank.rank'])).toEqual(['phm n=2']);
    expect(formatSetting(['gates', 'output'])).toBe('gates+output');
    expect(formatSetting(1 / 3)).toBe('0.3333');
    expect(formatSetting({ a: 1 })).toBe('{"a":1}');
  });

  it('the demo sweep: one label per configuration, every one naming its method first and no field of another', () => {
    const root = path.resolve(import.meta.dirname, '../../../..');
    const spec = parseSweepSpec(fs.readFileSync(path.join(root, 'examples/demo.yaml'), 'utf8'));
    const seen = new Set<string>();
    const items = expandSweep(spec)
      .filter((p) => !seen.has(p.configKey) && seen.add(p.configKey))
      .map((p) => ({ method: p.method, config: p.config }));
    const labels = configLabels(items, Object.keys(spec.grid ?? {}));
    expect(new Set(labels).size).toBe(items.length);
    labels.forEach((l, i) => {
      expect(l.startsWith(methodLabel(items[i]!.method))).toBe(true);
      expect(l).not.toMatch(/—|undefined/);
    });
    const paths = distinguishingPaths(items, Object.keys(spec.grid ?? {}));
    const flat = (v: unknown, p: string) => p.split('.').reduce<unknown>((n, k) => (n && typeof n === 'object' ? (n as Record<string, unknown>)[k] : undefined), v);
    paths.forEach((ps, i) => ps.forEach((p) => expect(flat(items[i]!.config, p), `${items[i]!.method} sets ${p}`).not.toBeUndefined()));
  });
});
