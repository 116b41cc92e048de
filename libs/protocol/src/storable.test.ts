import { describe, expect, it } from 'vitest';
import { INT4_MAX, storableText, unstorableStrings } from './storable.ts';

describe('storable', () => {
  it('storableText: NUL and unpaired surrogates are not storable; paired ones (emoji) are', () => {
    expect(['', 'plain', 'ünïcödé', '😀', 'tab\tand\nnewline'].map(storableText)).toEqual([true, true, true, true, true]);
    expect(['\u0000', 'a\u0000', '\ud800', '\udfff', 'x\ud83d', '\ude00y'].map(storableText)).toEqual([false, false, false, false, false, false]);
    expect(INT4_MAX).toBe(2147483647);
  });

  it('unstorableStrings names every unstorable value and key by its dotted path, up to a limit', () => {
    const v = { name: 'ok', grid: { 'model.hidden': [1, 'x\u0000'], 'bad\ud800key': [1] }, deep: [{ s: '\udc00' }], n: 5, b: null };
    expect(unstorableStrings(v)).toEqual([
      { path: 'grid.model.hidden.1', message: 'must not contain NUL (\\u0000) or unpaired surrogate characters' },
      { path: 'grid.bad\ud800key', message: 'invalid key: must not contain NUL (\\u0000) or unpaired surrogate characters' },
      { path: 'deep.0.s', message: 'must not contain NUL (\\u0000) or unpaired surrogate characters' },
    ]);
    expect(unstorableStrings({ a: 'fine', b: [1, 2, { c: 'also fine' }] })).toEqual([]);
    expect(unstorableStrings(Array.from({ length: 100 }, () => '\u0000'))).toHaveLength(20);
    expect(unstorableStrings('\u0000')).toEqual([{ path: '', message: expect.any(String) }]);
  });
});
