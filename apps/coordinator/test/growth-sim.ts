// The simulated sweep of the growth tests: configurations by hidden size with fixed parameters and
// perplexities per seed (so which get more seeds is known), and a worker that reports them.
import { expect } from 'vitest';
import type { TrialResult } from '@lmsweep/protocol';
import type { TrialStore } from '@lmsweep/db';
import { ProtocolClient } from './ws-client.ts';
import { sleep } from './helpers.ts';

// hidden size → parameters, and validation perplexity by seed.
export const PARAMS: Record<number, number> = { 8: 1000, 16: 2000, 24: 3000, 32: 4000 };
export const PPL: Record<number, number[]> = {
  8: [150, 152, 151, 151, 151], // tight (±1.30 < 1.5) after 4 seeds
  16: [120, 140, 130, 125, 135], // on the front, wide until max (5)
  24: [200, 200.2, 201, 201, 201], // tight after 2 (±1.27)
  32: [300, 310, 305, 305, 305], // wide, but beaten beyond both intervals by 24: not near the front
};
export const EXPECTED_SEEDS = { 8: 4, 16: 5, 24: 2, 32: 2 };
export const SPEC = {
  name: 'tight',
  dataset: { name: 'ptb', vocabSize: 300 },
  model: { embedding: 8, hidden: 8, layers: 1 },
  grid: { 'model.hidden': [8, 16, 24, 32] },
  seeds: { min: 2, max: 5, ciHalfWidth: 1.5 },
};

export const resultFor = (hidden: number, seed: number): TrialResult => ({
  params: PARAMS[hidden]!,
  paramsByLayer: { all: PARAMS[hidden]! },
  validPpl: PPL[hidden]![seed]!,
  testPpl: PPL[hidden]![seed]! + 1,
  steps: 1,
  tokens: 10,
  seconds: 0.01,
  tokensPerSecond: 1000,
  vocabSize: 300,
  backend: 'test',
});

/** A sampled sweep over the learning rate and hidden size (its simulated perplexity: searchResult). */
export const SAMPLED = {
  name: 'search',
  dataset: { name: 'ptb', vocabSize: 300 },
  model: { embedding: 8, hidden: 8, layers: 1 },
  search: { sampler: 'tpe', trials: 14, parallel: 3, seed: 5 },
  space: { 'training.lr': { log_uniform: [0.0001, 0.1] }, 'model.hidden': { int: [8, 64], step: 8 } },
  seeds: 2,
};

type SimConfig = { training: { lr: number }; model: { hidden: number } };

/** Best at lr 0.01 and the smallest hidden size; seeds 0.2 apart. */
export const searchResult = (config: unknown, seed: number): TrialResult => {
  const c = config as SimConfig;
  const ppl = 100 + 40 * (Math.log10(c.training.lr) + 2) ** 2 + c.model.hidden / 8 + 0.2 * seed;
  return { ...resultFor(8, 0), params: c.model.hidden * 100, paramsByLayer: { all: c.model.hidden * 100 }, validPpl: ppl, testPpl: ppl + 1 };
};

const tableResult = (config: unknown, seed: number) => resultFor((config as SimConfig).model.hidden, seed);

/** One simulated worker: claims and completes (perplexity from the tables, or `result`) until `stop()` is true or `max` trials are done. */
export async function work(url: string, stop: () => Promise<boolean>, max = Infinity, name = 'sim', result: (config: unknown, seed: number) => TrialResult = tableResult): Promise<number> {
  const w = await ProtocolClient.connect(url);
  await w.hello(name);
  let done = 0;
  try {
    while (done < max && !(await stop())) {
      const r = await w.request({ type: 'claim' });
      if (r.type !== 'assign') {
        await sleep(50);
        continue;
      }
      const ack = await w.request({ type: 'complete', trialId: r.trial.id, attempt: r.trial.attempt, result: result(r.trial.config, r.trial.seed) });
      expect(ack).toMatchObject({ type: 'ack', duplicate: false });
      done++;
    }
  } finally {
    w.close();
  }
  return done;
}

export const seedsByHidden = (items: { config: unknown; seed: number; status: string }[]) => {
  const out: Record<number, number[]> = {};
  for (const t of items) (out[(t.config as { model: { hidden: number } }).model.hidden] ??= []).push(t.seed);
  for (const k of Object.keys(out)) out[Number(k)]!.sort((a, b) => a - b);
  return out;
};

/** A finished sampled sweep: `configs` configurations, each with seeds 0 and 1 succeeded once, and the search state naming each once. */
export const expectSearchFinal = async (store: TrialStore, sweepId: string, configs: number) => {
  const { items } = await store.listTrials({ sweepId, limit: 500 });
  expect(items.every((t) => t.status === 'succeeded')).toBe(true);
  const byKey = new Map<string, number[]>();
  for (const t of items) byKey.set(t.configKey, [...(byKey.get(t.configKey) ?? []), t.seed].sort());
  expect(byKey.size).toBe(configs);
  for (const seeds of byKey.values()) expect(seeds).toEqual([0, 1]);
  const sweep = (await store.getSweep(sweepId))!;
  const points = (sweep.search as { points: { key: string }[] }).points;
  expect(points.map((p) => p.key).sort()).toEqual([...byKey.keys()].sort());
  return { items, search: sweep.search as { points: { key: string; point: Record<string, number> }[]; rejected: number } };
};

export const expectFinal = async (store: TrialStore, sweepId: string) => {
  const { items } = await store.listTrials({ sweepId, limit: 100 });
  expect(items.every((t) => t.status === 'succeeded')).toBe(true);
  const seeds = seedsByHidden(items);
  expect(Object.fromEntries(Object.entries(seeds).map(([k, v]) => [k, v.length]))).toEqual(EXPECTED_SEEDS);
  for (const v of Object.values(seeds)) expect(v).toEqual(v.map((_, i) => i)); // seeds 0, 1, … and no seed twice
  return items;
};
