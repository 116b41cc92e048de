import { describe, expect, it } from 'vitest';
import { CONTROL_METHOD, methodLabel } from './methods.ts';
import { METHODS, startsFromBaseline, TrialConfig } from './spec.ts';

describe('method names', () => {
  it('label the control "dense + fine-tune" and every other method by its name', () => {
    expect(methodLabel(CONTROL_METHOD)).toBe('dense + fine-tune');
    for (const m of METHODS.filter((x) => x !== CONTROL_METHOD)) expect(methodLabel(m)).toBe(m);
    expect(methodLabel('__proto__')).toBe('__proto__');
    expect(methodLabel('toString')).toBe('toString');
  });

  it('the control is a method a trial config may name, starting from its baseline', () => {
    expect(TrialConfig.parse({ method: CONTROL_METHOD }).method).toBe('dense-finetune');
    expect(startsFromBaseline(CONTROL_METHOD)).toBe(true);
    expect(startsFromBaseline('groupreduce')).toBe(true);
    expect(startsFromBaseline('dense')).toBe(false);
    expect(startsFromBaseline('phm')).toBe(false);
  });
});
