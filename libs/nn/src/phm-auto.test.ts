// PHM's 'auto' rule: the pure choice from timings, the prior per engine, and the timing made once
// per shape and engine (a real PhmDense on every test backend chooses, and gives the path's values).
import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { choosePhmPathFromTimes, FACTORED_MAX_BATCH_BY_ENGINE, PHM_AUTO_MARGIN, phmAutoChoice, phmAutoPath, phmPriorPath, type PhmProduct, resetPhmAutoChoices } from './phm-auto.ts';
import { PhmDense } from './phm.ts';
import { createRng } from './random.ts';
import { TEST_BACKENDS } from './testing.ts';

describe('choosePhmPathFromTimes', () => {
  it('keeps the prior unless the other path is faster by more than the margin', () => {
    expect(PHM_AUTO_MARGIN).toBe(0.15);
    // materialized prior: factored must be under 100 / 1.15 ≈ 86.96
    expect(choosePhmPathFromTimes({ materialized: 100, factored: 90 }, 'materialized')).toBe('materialized');
    expect(choosePhmPathFromTimes({ materialized: 100, factored: 86 }, 'materialized')).toBe('factored');
    expect(choosePhmPathFromTimes({ materialized: 100, factored: 300 }, 'materialized')).toBe('materialized');
    // factored prior, the other way round
    expect(choosePhmPathFromTimes({ materialized: 9, factored: 10 }, 'factored')).toBe('factored');
    expect(choosePhmPathFromTimes({ materialized: 8, factored: 10 }, 'factored')).toBe('materialized');
    // the margin is a parameter; 0 picks the strictly faster, a tie keeps the prior
    expect(choosePhmPathFromTimes({ materialized: 9.9, factored: 10 }, 'factored', 0)).toBe('materialized');
    expect(choosePhmPathFromTimes({ materialized: 10, factored: 10 }, 'factored', 0)).toBe('factored');
    expect(choosePhmPathFromTimes({ materialized: 10, factored: 10 }, 'materialized', 0)).toBe('materialized');
  });

  it('keeps the prior when a time is missing or not a time', () => {
    for (const bad of [NaN, Infinity, -1]) {
      expect(choosePhmPathFromTimes({ materialized: 100, factored: bad }, 'materialized')).toBe('materialized');
      expect(choosePhmPathFromTimes({ materialized: bad, factored: 100 }, 'factored')).toBe('factored');
    }
  });
});

describe('phmPriorPath', () => {
  it('factors up to the engine’s batch, never n = 1', () => {
    expect(FACTORED_MAX_BATCH_BY_ENGINE.xnnpack).toBe(128);
    expect(FACTORED_MAX_BATCH_BY_ENGINE.native).toBeLessThan(FACTORED_MAX_BATCH_BY_ENGINE.xnnpack);
    for (const engine of ['native', 'xnnpack', 'tensorflow', 'cpu'] as const) {
      const max = FACTORED_MAX_BATCH_BY_ENGINE[engine];
      expect(phmPriorPath(1, 4, engine)).toBe('factored');
      expect(phmPriorPath(max, 2, engine)).toBe('factored');
      expect(phmPriorPath(max + 1, 2, engine)).toBe('materialized');
      expect(phmPriorPath(1, 1, engine)).toBe('materialized');
    }
  });
});

describe.each(TEST_BACKENDS)('phmAutoPath on %s', (label, backend, native) => {
  afterAll(() => resetPhmAutoChoices());

  it('times both paths once per shape and engine, then keeps the choice', async () => {
    await selectBackend(backend, { native });
    resetPhmAutoChoices();
    const runs: PhmProduct[] = [];
    let timers = 0;
    // materialized made artificially slow: the timing must overrule a materialized prior (batch 700)
    const timer = () => {
      timers++;
      return {
        run: (p: PhmProduct) => {
          runs.push(p);
          if (p === 'materialized') {
            const until = performance.now() + 3;
            while (performance.now() < until);
          }
        },
        dispose: () => {},
      };
    };
    const chosen = phmAutoPath(700, 16, 8, 2, 'mix-first', timer);
    const choice = phmAutoChoice(700, 16, 8, 2, 'mix-first')!;
    expect(choice.prior).toBe('materialized');
    if (backend === 'cpu') {
      // the pure-JS backend is not timed: the prior
      expect([chosen, timers, choice.times]).toEqual(['materialized', 0, undefined]);
    } else {
      expect(chosen).toBe('factored');
      expect(choice.engine).toBe(native ? 'native' : 'xnnpack');
      expect(choice.times!.materialized).toBeGreaterThanOrEqual(3);
      expect(timers).toBe(1);
      // a warm-up each, then 3 interleaved rounds
      expect(runs.filter((p) => p === 'materialized').length).toBe(4);
      expect(runs.filter((p) => p === 'factored').length).toBe(4);
    }
    // the same shape again: no timing; another shape is timed afresh
    expect(phmAutoPath(700, 16, 8, 2, 'mix-first', timer)).toBe(chosen);
    expect(timers).toBe(backend === 'cpu' ? 0 : 1);
    phmAutoPath(699, 16, 8, 2, 'mix-first', timer);
    expect(timers).toBe(backend === 'cpu' ? 0 : 2);
    // n = 1 is never timed
    expect(phmAutoPath(5, 16, 8, 1, 'mix-first', timer)).toBe('materialized');
    expect(timers).toBe(backend === 'cpu' ? 0 : 2);
  });

  it('a layer on path auto chooses on its first use and gives that path’s values and gradients (float32: rtol 1e-4, atol 1e-5)', async () => {
    await selectBackend(backend, { native });
    resetPhmAutoChoices();
    const [B, d, k, n] = [6, 24, 16, 4];
    const layer = new PhmDense({ inputSize: d, outputSize: k, n, rng: createRng(3, 1), name: `phm-auto-${label}` });
    const x = tf.tensor2d(createRng(4, 1).fillUniform(new Float32Array(B * d), -1, 1), [B, d]);
    const r = tf.tensor2d(createRng(5, 1).fillUniform(new Float32Array(B * k), -1, 1), [B, k]);
    const before = tf.memory().numTensors;
    const run = (path: 'auto' | PhmProduct) => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, path), r)) as tf.Scalar, layer.variables);
      const out = [value.dataSync().slice(), ...layer.variables.map((v) => grads[v.name]!.dataSync().slice())];
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    // the first call times inside the gradient tape: nothing leaks, the gradients are the path's
    const auto = run('auto');
    expect(tf.memory().numTensors).toBe(before);
    const choice = phmAutoChoice(B, d, k, n, layer.order)!;
    expect(choice).toBeDefined();
    const direct = run(choice.path);
    auto.forEach((a, i) => expectClose(a, direct[i]!, { rtol: 1e-4, atol: 1e-5 }));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, r]);
    layer.dispose();
  });
});
