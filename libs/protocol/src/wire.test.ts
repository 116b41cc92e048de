// The wire encoding (non-finite numbers tagged, strings left alone) and the worker messages'
// bounds: every string a worker sends must be storable (no NUL, no unpaired surrogate), every
// integer that lands in an int4 column must fit one.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeJson, encodeMessage, MetricPoint, nonFiniteName, TrialResult, WorkerMessage } from './wire.ts';
import { INT4_MAX, storableText } from './storable.ts';
import { zodIssues } from './spec.ts';

const NAMES = ['NaN', 'Infinity', '-Infinity'];

/** The issues of a message the schema refuses ('path: message'); throws when it is accepted. */
function refusal(msg: unknown): string[] {
  const r = WorkerMessage.safeParse(msg);
  if (r.success) throw new Error(`accepted: ${JSON.stringify(msg).slice(0, 200)}`);
  return zodIssues(r.error).map((i) => `${i.path}: ${i.message}`);
}

/** Refused, and every issue names `field`. */
function expectRefused(msg: unknown, field: string): void {
  const issues = refusal(msg);
  expect(issues.length).toBeGreaterThan(0);
  for (const i of issues) expect(i.startsWith(`${field}: `), i).toBe(true);
}

describe('encodeMessage / decodeJson', () => {
  it('tags NaN and ±Infinity as {"$f": name} and decodes exactly that form back to numbers', () => {
    const msg = { a: Number.NaN, b: [Infinity, -Infinity, 1.5, -0.25], c: { d: Number.NaN } };
    const text = encodeMessage(msg);
    expect(text).toBe('{"a":{"$f":"NaN"},"b":[{"$f":"Infinity"},{"$f":"-Infinity"},1.5,-0.25],"c":{"d":{"$f":"NaN"}}}');
    const back = decodeJson(text) as typeof msg;
    expect(Number.isNaN(back.a)).toBe(true);
    expect(back.b).toEqual([Infinity, -Infinity, 1.5, -0.25]);
    expect(Number.isNaN(back.c.d)).toBe(true);
    // The tag's key written with an escape is the same JSON, and decodes the same.
    expect(decodeJson('{"x":{"\\u0024f":"-Infinity"}}')).toEqual({ x: -Infinity });
  });

  it('leaves strings alone: "NaN", "Infinity" and "-Infinity" in any field stay strings', () => {
    for (const s of NAMES) {
      expect(decodeJson(encodeMessage({ s, list: [s], nested: { deeper: [{ s }] } }))).toEqual({ s, list: [s], nested: { deeper: [{ s }] } });
      expect(decodeJson(JSON.stringify({ s }))).toEqual({ s });
    }
    // A hello whose every string is one of those names is a hello with those strings.
    const hello = { type: 'hello', msgId: 'NaN', protocol: 1, workerId: 'Infinity', workerKey: '-Infinity', name: 'NaN', host: 'Infinity', backend: '-Infinity', device: 'NaN', version: 'Infinity', token: 'NaN' };
    expect(WorkerMessage.parse(decodeJson(encodeMessage(hello)))).toEqual(hello);
    // A metric value sent as a string is not a number, whatever it says.
    const metric = { type: 'metric', msgId: 'm', trialId: 't', attempt: 1, points: [{ step: 1, epoch: 0, name: 'train_loss', value: 'NaN' }] };
    expect(refusal(decodeJson(JSON.stringify(metric)))).toEqual([expect.stringMatching(/^points\.0\.value: expected a number/)]);
  });

  it('decodes only the exact tag: other objects with a "$f" key stay objects', () => {
    for (const o of [{ $f: 'nan' }, { $f: 'NaN', x: 1 }, { $f: ['NaN'] }, { $f: 1 }, { $f: null }, { $f: { $f: 'x' } }, { $F: 'NaN' }, { toString: 'NaN' }]) {
      expect(decodeJson(JSON.stringify({ o }))).toEqual({ o });
    }
    expect(decodeJson('[{"$f":"NaN"},"$f",{"$f":"Infinity"}]')).toEqual([Number.NaN, '$f', Infinity]);
  });

  it('round-trips any JSON-like value with non-finite numbers and look-alike strings (property)', () => {
    const leaf = fc.oneof(
      fc.double().map((x) => (Object.is(x, -0) ? 0 : x)),
      fc.constantFrom(Number.NaN, Infinity, -Infinity),
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom(...NAMES, '$f', '{"$f":"NaN"}', '\\u0024f'),
      fc.boolean(),
      fc.constant(null),
    );
    const key = fc.oneof(fc.string(), fc.constantFrom('$f', 'NaN', 'value')).filter((k) => k !== '__proto__');
    const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
      tree: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(key, tie('tree'), { maxKeys: 4 })),
    }));
    /** The one reserved shape: an object whose only key is "$f" with a name as its value. */
    const reserved = (v: unknown): boolean =>
      typeof v === 'object' && v !== null && (Array.isArray(v) ? v.some(reserved) : (Object.keys(v).length === 1 && NAMES.includes((v as { $f?: unknown }).$f as string)) || Object.values(v).some(reserved));
    fc.assert(
      fc.property(tree.filter((v) => !reserved(v)), (v) => {
        expect(decodeJson(encodeMessage(v))).toEqual(v);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('names non-finite numbers', () => {
    expect([Number.NaN, Infinity, -Infinity, 0, 1e308].map(nonFiniteName)).toEqual(['NaN', 'Infinity', '-Infinity', null, null]);
  });
});

describe('worker message bounds', () => {
  const base = { msgId: 'id-1', trialId: 't_1', attempt: 2 };
  const result: TrialResult = {
    params: 1000,
    paramsByLayer: { embedding: 600, softmax: 400 },
    validPpl: 120,
    testPpl: 118,
    trainLoss: 4.8,
    steps: 10,
    tokens: 1000,
    seconds: 2,
    tokensPerSecond: 500,
    vocabSize: 100,
    backend: 'wasm',
    compression: {
      baselineTrialId: 't_0',
      baselineParams: 2000,
      baselineValidPpl: 110,
      matrices: { embedding: { rows: 100, cols: 10, params: 500, rate: 2, werr: 0.1, ranks: [3, 2], seconds: 0.5 } },
      validPplBefore: 130,
      testPplBefore: 129,
      finetuneSteps: 10,
    },
  };
  /** One valid message of every type, each optional field present. */
  const samples: Record<string, unknown>[] = [
    { type: 'hello', msgId: 'h', protocol: 1, workerId: 'w_1', workerKey: 'key', name: 'box-1', host: 'box', backend: 'wasm', device: 'cpu', version: '0.1.0', token: 'secret' },
    { type: 'claim', msgId: 'c' },
    { type: 'heartbeat', ...base, progress: 0.5, etaSeconds: 3 },
    { type: 'metric', ...base, points: [{ step: 3, epoch: 0.5, name: 'train_loss', value: Number.NaN }, { step: 4, epoch: 0.6, name: 'valid_ppl', value: Infinity }] },
    { type: 'complete', ...base, result },
    { type: 'fail', ...base, kind: 'diverged', error: 'diverged at step 4: loss is NaN', retryable: false },
    { type: 'release', ...base, reason: 'worker stopping' },
  ];

  /** Every string in `v` (values and record keys), as a path and a function that rebuilds `v` with that string replaced. */
  function strings(v: unknown, path: string[] = []): { path: string; isKey: boolean; replace: (f: (s: string) => string) => unknown }[] {
    if (typeof v === 'string') return [{ path: path.join('.'), isKey: false, replace: (f) => f(v) }];
    if (Array.isArray(v)) return v.flatMap((x, i) => strings(x, [...path, String(i)]).map((s) => ({ ...s, replace: (f: (s: string) => string) => v.map((y, j) => (j === i ? s.replace(f) : y)) })));
    if (typeof v !== 'object' || v === null) return [];
    const entries = Object.entries(v);
    return entries.flatMap(([k, x]) => [
      ...strings(x, [...path, k]).map((s) => ({ ...s, replace: (f: (s: string) => string) => Object.fromEntries(entries.map(([k2, y]) => [k2, k2 === k ? s.replace(f) : y])) })),
      // Keys of free-form records (layer and matrix names) are strings the database stores too.
      ...(['paramsByLayer', 'matrices'].includes(path.at(-1) ?? '') ? [{ path: [...path, k].join('.'), isKey: true, replace: (f: (s: string) => string) => Object.fromEntries(entries.map(([k2, y]) => [k2 === k ? f(k2) : k2, y])) }] : []),
    ]);
  }

  it('the samples are valid, and storable', () => {
    for (const m of samples) expect(WorkerMessage.safeParse(m).success, String(m.type)).toBe(true);
    expect(storableText('ascii, ünïcödé, 😀 (a pair)')).toBe(true);
    for (const bad of ['\u0000', 'a\u0000b', '\ud800', 'x\udc00', '\ud83d']) expect(storableText(bad), JSON.stringify(bad)).toBe(false);
  });

  it('a NUL or an unpaired surrogate in any string field, record keys included, is refused naming that field', () => {
    let checked = 0;
    for (const m of samples) {
      for (const s of strings(m)) {
        for (const poison of [(x: string) => `${x}\u0000`, (x: string) => `\u0000${x}`, (x: string) => `${x}\ud800`, (x: string) => `\udc00${x}`]) {
          const issues = refusal(s.replace(poison));
          // A record key is named by its path, which ends in the (poisoned) key itself.
          const field = s.isKey ? [...s.path.split('.').slice(0, -1), poison(s.path.split('.').at(-1)!)].join('.') : s.path;
          expect(issues.some((i) => i.startsWith(`${field}: `)), `${String(m.type)} ${s.path}: ${issues.join('; ')}`).toBe(true);
          checked++;
        }
      }
    }
    // Strings per sample: hello 10, claim 2, heartbeat 3, metric 5, complete 8 (3 of them record keys), fail 5, release 4; each poisoned 4 ways.
    expect(checked).toBe(4 * (10 + 2 + 3 + 5 + 8 + 5 + 4));
  });

  it('a NUL in a record key says so', () => {
    const bad = { type: 'complete', ...base, result: { ...result, paramsByLayer: { 'lstm\u0000': 1 } } };
    expect(refusal(bad)).toEqual(['result.paramsByLayer.lstm\u0000: invalid key: must not contain NUL (\\u0000) or unpaired surrogate characters']);
  });

  it('integers stored in int4 columns fit one: metric steps and result params up to 2³¹ − 1', () => {
    const metric = (step: number) => ({ type: 'metric', ...base, points: [{ step, epoch: 0, name: 'train_loss', value: 1 }] });
    const complete = (params: number) => ({ type: 'complete', ...base, result: { ...result, params } });
    expect(WorkerMessage.safeParse(metric(INT4_MAX)).success).toBe(true);
    expect(WorkerMessage.safeParse(complete(INT4_MAX)).success).toBe(true);
    for (const n of [INT4_MAX + 1, 2 ** 40, 2 ** 53, 1e300]) {
      expectRefused(metric(n), 'points.0.step');
      expectRefused(complete(n), 'result.params');
    }
    // Integers kept only in the result's jsonb may be larger, up to the safe integers.
    expect(WorkerMessage.safeParse({ type: 'complete', ...base, result: { ...result, tokens: 2 ** 40, paramsByLayer: { all: 2 ** 40 } } }).success).toBe(true);
    expectRefused({ type: 'complete', ...base, result: { ...result, tokens: 2 ** 60 } }, 'result.tokens');
    expectRefused({ type: 'heartbeat', ...base, attempt: 2 ** 31, progress: 0 }, 'attempt');
  });

  it('metric values may be NaN or ±Infinity; the result’s numbers must be finite', () => {
    for (const value of [Number.NaN, Infinity, -Infinity, 0, -1e308]) expect(MetricPoint.safeParse({ step: 1, epoch: 0, name: 'x', value }).success).toBe(true);
    expectRefused({ type: 'complete', ...base, result: { ...result, validPpl: Number.NaN } }, 'result.validPpl');
    expectRefused({ type: 'complete', ...base, result: { ...result, trainLoss: Infinity } }, 'result.trainLoss');
    expectRefused({ type: 'metric', ...base, points: [{ step: 1, epoch: Number.NaN, name: 'x', value: 1 }] }, 'points.0.epoch');
  });
});
