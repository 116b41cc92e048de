// The labels the dashboard shows (@lmsweep/protocol/labels, as Leaderboard.tsx calls it) on the
// real expansion of the demo sweep.
import fs from 'node:fs';
import path from 'node:path';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import { describe, expect, it } from 'vitest';
import { configLabels, gridKeys, labelFields, variedKeys } from '@lmsweep/protocol/labels';
import { methodLabel } from '@lmsweep/protocol/methods';
import { getPath, isSampled } from './config';

describe('configuration labels on the dashboard', () => {
  it('the demo sweep: one label per configuration, every one naming its method first and no field of another', () => {
    const root = path.resolve(import.meta.dirname, '../../../..');
    const specText = fs.readFileSync(path.join(root, 'examples/demo.yaml'), 'utf8');
    const spec = parseSweepSpec(specText);
    const seen = new Set<string>();
    const items = expandSweep(spec)
      .filter((p) => !seen.has(p.configKey) && seen.add(p.configKey))
      .map((p) => ({ method: p.method, config: p.config }));
    const opts = { prefer: gridKeys(spec), baselineSuffix: false };
    expect(opts.prefer).toEqual(['method']);
    const labels = configLabels(items, opts);
    expect(labels).toEqual(['dense', 'phm n=4', 'lowrank rank 16', 'dense + fine-tune', 'svd rate 4', 'groupreduce rate 4, 10 blocks']);
    labels.forEach((l, i) => {
      expect(l.startsWith(methodLabel(items[i]!.method))).toBe(true);
      expect(l).not.toMatch(/—|undefined/);
    });
    // Every field a label names is one its own configuration sets.
    labelFields(items, opts).forEach((ps, i) => ps.forEach((p) => expect(getPath(items[i]!.config, p), `${items[i]!.method} sets ${p}`).not.toBeUndefined()));
  });
});

describe('the parameters a sweep varies', () => {
  it("a grid's, a search's space (examples/search.yaml), and never a key through a prototype", () => {
    const root = path.resolve(import.meta.dirname, '../../../..');
    const search = parseSweepSpec(fs.readFileSync(path.join(root, 'examples/search.yaml'), 'utf8'));
    expect(variedKeys(search)).toEqual(['method', 'compress.rate', 'model.phm.n', 'model.hidden', 'training.lr']);
    expect(isSampled(search)).toBe(true);
    const grid = parseSweepSpec(fs.readFileSync(path.join(root, 'examples/demo.yaml'), 'utf8'));
    expect(variedKeys(grid)).toEqual(['method']);
    expect(isSampled(grid)).toBe(false);
    expect(variedKeys(JSON.parse('{"__proto__": {"grid": {"x": [1]}}}'))).toEqual([]);
    expect(isSampled(null)).toBe(false);
  });
});
