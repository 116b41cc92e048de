import { describe, expect, it } from 'vitest';
import { configLabels } from '@lmsweep/protocol/labels';
import { renderLeaderboard, renderStoppedEarly, stoppedAt, type LeaderboardTableRow, type StoppedTableRow } from './leaderboard-table.ts';
import { displayWidth } from './terminal-text.ts';

// Configs as the sweep stores them (resolved: a method keeps only its own section; svd's unread
// blocks and iters normalized to 1 and 0), for examples/demo.yaml.
const model = { embedding: 128, hidden: 128, layers: 1, dropout: 0, initScale: 0.1 };
const base = {
  dataset: { name: 'ptb', vocabSize: 2000 },
  model,
  training: { batchSize: 20, unroll: 20, optimizer: 'adam', lr: 0.003, lrDecay: 0.5, decayStart: 4, clip: 1, epochs: 1 },
  budget: { maxSteps: 300 },
};
const compress = (blocks: number, iters: number) => ({ target: 'both', rate: 4, blocks, iters, finetune: { epochs: 1, maxSteps: 100, lr: 0.001 } });
const configs: Record<string, Record<string, unknown>> = {
  dense: { ...base, method: 'dense' },
  phm: { ...base, method: 'phm', model: { ...model, phm: { n: 4, layers: ['gates', 'output'], path: 'auto' } } },
  lowrank: { ...base, method: 'lowrank', model: { ...model, lowrank: { rank: 16, layers: ['gates', 'output'] } } },
  svd: { ...base, method: 'svd', compress: compress(1, 0) },
  groupreduce: { ...base, method: 'groupreduce', compress: compress(10, 5) },
};

let seq = 0;
function row(method: string, config: Record<string, unknown>, over: Partial<LeaderboardTableRow> = {}): LeaderboardTableRow {
  seq++;
  return { method, config, params: 100_000 + seq * 12_345, compression: 1 + seq / 7, validPpl: { mean: 100 + seq, halfWidth: 0.7 }, testPpl: { mean: 98 + seq, halfWidth: 1.2 }, seeds: [0, 1, 2], paretoRank: seq % 2, isBaseline: false, ...over };
}

const demoRows = () => [
  row('groupreduce', configs.groupreduce!),
  row('svd', configs.svd!),
  row('dense', configs.dense!, { isBaseline: true, compression: 1 }),
  row('phm', configs.phm!),
  row('lowrank', configs.lowrank!),
];

const lines = (s: string) => s.split('\n');

describe('terminal leaderboard', () => {
  it("the demo's rows: one configuration column naming only what each method sets, within 100 columns", () => {
    const rows = demoRows();
    expect(configLabels(rows)).toEqual(['groupreduce rate 4, 10 blocks', 'svd rate 4', 'dense (baseline)', 'phm n=4', 'lowrank rank 16']);
    const text = renderLeaderboard(rows);
    for (const l of lines(text)) expect(displayWidth(l), l).toBeLessThanOrEqual(100);
    expect(lines(text)[0]).toMatch(/^ +configuration +params +ratio +valid ppl ±95% +test ppl ±95% +n$/);
    expect(text).toMatch(/^★? +phm n=4 +\d+\.\dk +\d\.\d\d× +\d+\.\d ± 0\.7 +\d+\.\d ± 1\.2 +3$/m);
  });

  it('marks intervals wider than the sweep\'s target, with a footnote; sweeps without a target are not marked', () => {
    const rows = [row('dense', configs.dense!, { ciTarget: 1.5, ciTight: true }), row('phm', configs.phm!, { ciTarget: 1.5, ciTight: false, validPpl: { mean: 120, halfWidth: 4.2 } }), row('lowrank', configs.lowrank!, { ciTarget: null, ciTight: false })];
    for (const wide of [false, true]) {
      const text = renderLeaderboard(rows, { wide });
      expect(text).toMatch(/120(\.0)? ± 4\.2~/);
      expect(text.match(/~/g)).toHaveLength(2); // the row and the footnote
      expect(lines(text).at(-1)).toBe("~ 1 interval is wider than the sweep's target (±1.5): more seeds would narrow it");
      if (!wide) for (const l of lines(text)) expect(displayWidth(l), l).toBeLessThanOrEqual(100);
    }
    expect(renderLeaderboard(demoRows())).not.toMatch(/~/);
  });

  it('labels name no other method\'s fields', () => {
    const labels = Object.fromEntries(configLabels(demoRows()).map((l) => [l.split(' ')[0], l]));
    const foreign: Record<string, RegExp> = {
      dense: /rate|rank|n=|block|iters|target|finetune|layers|path/,
      phm: /rate|rank|block|iters|target|finetune/,
      lowrank: /rate|n=|block|iters|target|finetune/,
      svd: /rank|n=|block|iters|layers|path/,
      groupreduce: /rank|n=|layers|path|target|finetune/,
    };
    for (const [m, re] of Object.entries(foreign)) expect(labels[m], m).not.toMatch(re);
  });

  it('a field the grid varies is named; a field only one row differs in is named on that row only', () => {
    const hidden = (h: number, method = 'dense', extra: Record<string, unknown> = {}) => ({ ...base, ...extra, method, model: { ...model, hidden: h, ...((extra.model as object) ?? {}) } });
    expect(configLabels([32, 64, 128].map((h) => row('dense', hidden(h), { isBaseline: h === 128 })))).toEqual(['dense hidden 32', 'dense hidden 64', 'dense hidden 128 (baseline)']);
    // method × hidden, with PHM's n in the grid too.
    const grid = [
      row('dense', hidden(64)),
      row('dense', hidden(128)),
      row('phm', { ...hidden(64, 'phm'), model: { ...model, hidden: 64, phm: { n: 2, layers: ['gates'], path: 'auto' } } }),
      row('phm', { ...hidden(64, 'phm'), model: { ...model, hidden: 64, phm: { n: 4, layers: ['gates'], path: 'auto' } } }),
      row('phm', { ...hidden(128, 'phm'), model: { ...model, hidden: 128, phm: { n: 4, layers: ['gates'], path: 'auto' } } }),
    ];
    expect(configLabels(grid)).toEqual(['dense hidden 64', 'dense hidden 128', 'phm n=2, hidden 64', 'phm n=4, hidden 64', 'phm n=4, hidden 128']);
    // groupreduce at several rates and block counts (a block count of 1 is named when the grid varies it).
    const gr = [1, 10].flatMap((blocks) => [2, 5].map((rate) => row('groupreduce', { ...configs.groupreduce!, compress: { ...compress(blocks, 5), rate } })));
    expect(configLabels(gr)).toEqual(['groupreduce rate 2, 1 block', 'groupreduce rate 5, 1 block', 'groupreduce rate 2, 10 blocks', 'groupreduce rate 5, 10 blocks']);
  });

  it('a method this code has never heard of labels itself the same way (a "dense + fine-tune" control)', () => {
    const control = { ...base, method: 'dense-finetune', budget: { maxSteps: 400 }, finetune: { steps: 100, lr: 0.001 } };
    const labels = configLabels([...demoRows(), row('dense-finetune', control)]);
    expect(labels.at(-1)).toBe('dense + fine-tune budget.maxSteps 400');
    expect(labels.slice(0, -1)).toEqual(['groupreduce rate 4, 10 blocks', 'svd rate 4', 'dense (baseline)', 'phm n=4', 'lowrank rank 16']);
  });

  it('long labels are cut to fit 100 columns; huge or missing numbers stay narrow', () => {
    const many = Array.from({ length: 6 }, (_, i) =>
      row('dense', { ...base, method: 'dense', model: { ...model, hidden: 64 + i, embedding: 32 + i, layers: 1 + (i % 2), dropout: i / 10 }, training: { ...base.training, lr: 0.001 * (i + 1), clip: i + 1, batchSize: 10 + i } }, { params: 10 ** (i + 3), validPpl: { mean: i === 5 ? 1e30 : Number.NaN, halfWidth: i ? 1e12 : null }, compression: i === 4 ? 1e7 : null }),
    );
    const text = renderLeaderboard(many);
    for (const l of lines(text)) expect(displayWidth(l), l).toBeLessThanOrEqual(100);
    expect(text).toContain('…');
    expect(text).toMatch(/1\.00e\+30 ± 1\.00e\+12/);
  });

  it('hostile config strings are shown escaped, and the table still fits', () => {
    const evil = (name: string) => row('dense', { ...base, method: 'dense', dataset: { name, vocabSize: 2000 } });
    const text = renderLeaderboard([evil('\x1b[2J\x1b]0;pwned\x07ptb'), evil('ptb\u202etxt.exe'), evil('a\nb')]);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('\\u001b[2J');
    expect(text).toContain('ptb\\u202etxt.exe');
    expect(lines(text)).toHaveLength(5);
    for (const l of lines(text)) expect(displayWidth(l)).toBeLessThanOrEqual(100);
  });

  it('--wide keeps a column per varying config field', () => {
    const head = lines(renderLeaderboard(demoRows(), { wide: true }))[0]!;
    for (const k of ['method', 'compress.blocks', 'compress.rate', 'model.phm.n', 'model.lowrank.rank', 'params', 'valid ppl (95% CI)', 'seeds']) expect(head).toContain(k);
    expect(displayWidth(head)).toBeGreaterThan(200);
  });
});

const controlRow = (method: string, config: unknown, isBaseline = false) => ({ method, config, params: 1000, compression: 1, validPpl: { mean: 100, halfWidth: 1 }, testPpl: { mean: 110, halfWidth: 1 }, seeds: [0, 1], paretoRank: 0, isBaseline });

describe('the dense + fine-tune control', () => {
  it('labels the dense + fine-tune control so, beside the baseline it started from', () => {
    const out = renderLeaderboard([controlRow('dense', { method: 'dense' }, true), controlRow('dense-finetune', { method: 'dense-finetune', finetune: { epochs: 1, maxSteps: 100 } })]);
    expect(out).toContain('dense (baseline)');
    expect(out).toContain('dense + fine-tune');
    expect(out).not.toContain('dense-finetune');
    expect(renderLeaderboard([controlRow('dense-finetune', { method: 'dense-finetune' })], { wide: true })).toContain('dense + fine-tune');
  });
});

describe('renderStoppedEarly', () => {
  const stopped = (method: string, config: Record<string, unknown>, over: Partial<StoppedTableRow> = {}): StoppedTableRow => ({ method, config, status: 'pruned', steps: 300, rung: 1, validPpl: 212.345, seeds: [0, 1], ...over });

  it('is empty without stopped configurations', () => {
    expect(renderStoppedEarly([])).toBe('');
  });

  it('says where each stopped, its rung and last value, within 100 columns, labels cut to fit', () => {
    const long = { ...configs.groupreduce!, model: { ...model, hidden: 123_456_789 }, training: { ...base.training, lr: 0.000123456789 } };
    const out = renderStoppedEarly([stopped('groupreduce', long, { status: 'paused', steps: 2700, rung: 3 }), stopped('phm', configs.phm!, { rung: null, validPpl: null, steps: null })], { alongside: [row('dense', configs.dense!)] });
    const lines = out.split('\n');
    expect(lines[0]).toBe('stopped early (2 configurations: pruned or paused, no seed finished; not ranked)');
    expect(lines[3]).toMatch(/paused at step 2700\s+3\s+212\.3\s+2$/);
    expect(lines[4]).toMatch(/^phm .*stopped\s+-\s+-\s+2$/);
    for (const l of lines) expect(displayWidth(l), l).toBeLessThanOrEqual(100);
    expect(stoppedAt({ status: 'pruned', steps: 100 })).toBe('stopped at step 100');
  });
});
