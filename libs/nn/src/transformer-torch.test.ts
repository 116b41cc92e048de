// lmsweep's Transformer against PyTorch's same model (tools/cli/src/bench/torch_transformer.py)
// from the same initial weights: the losses of 20 plain SGD steps on the same windows
// (fixtures/transformer-torch.json, written by tools/cli/src/bench/transformer-reference.py).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose } from '@lmsweep/algorithms';
import type { ModelConfig } from '@lmsweep/protocol';
import { expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import type { TensorData } from './checkpoint.ts';
import { describeBackends } from './testing.ts';
import { TransformerLm } from './transformer-lm.ts';

interface Fixture {
  config: { vocab: number; hidden: number; layers: number; heads: number; ffn: number; context: number; batch: number; initScale: number; lr: number };
  x: number[][];
  y: number[][];
  weights: Record<string, { shape: number[]; data: number[] }>;
  losses: number[];
}

const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'transformer-torch.json'), 'utf8')) as Fixture;

describeBackends('the Transformer against PyTorch', (backend, native) => {
  it('selects the backend', async () => {
    expect((await selectBackend(backend, { native })).backend).toBe(backend);
  });

  it('20 SGD steps from the same weights give the same losses (rtol 1e-5)', () => {
    const c = fixture.config;
    const config: ModelConfig = { arch: 'transformer', embedding: c.hidden, hidden: c.hidden, layers: c.layers, heads: c.heads, ffn: c.ffn, dropout: 0, initScale: c.initScale };
    const weights: Record<string, TensorData> = Object.fromEntries(Object.entries(fixture.weights).map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]));
    const model = TransformerLm.fromWeights(c.vocab, config, weights);
    expect(model.context).toBe(c.context);
    const losses: number[] = [];
    fixture.x.forEach((xs, s) => {
      const x = Int32Array.from(xs);
      const y = Int32Array.from(fixture.y[s]!);
      const { value, grads } = tf.variableGrads(() => tf.mul(model.forward(x, y, c.batch, model.zeroState(c.batch)).lossSum, 1 / c.batch) as tf.Scalar, model.variables);
      losses.push((value.dataSync()[0]! * c.batch) / x.length);
      tf.tidy(() => model.variables.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name]!, c.lr)))));
      tf.dispose([value, ...Object.values(grads)]);
    });
    // float32 on both sides, summed in other orders: 1.6e-7 relative at worst here
    expectClose(losses, fixture.losses, { rtol: 1e-5 });
    // the steps moved the model: its last loss is not its first
    expect(Math.abs(fixture.losses.at(-1)! - fixture.losses[0]!)).toBeGreaterThan(0.1);
    model.dispose();
  });
});
