// Shared bits of the coordinator and worker integration tests.
import { TRPCClientError } from '@trpc/client';
import { expect } from 'vitest';
import type { TrialResult } from '@lmsweep/protocol';
import { expandSweep, parseSweepSpec } from '@lmsweep/sweep';
import type { TrialStore } from '@lmsweep/db';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, pred: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A valid trial result with the given validation perplexity. */
export const result = (validPpl: number): TrialResult => ({
  params: 1234,
  paramsByLayer: { embedding: 1000, softmax: 234 },
  validPpl,
  testPpl: validPpl + 1,
  trainLoss: 5,
  steps: 3,
  tokens: 100,
  seconds: 0.1,
  tokensPerSecond: 1000,
  vocabSize: 300,
  backend: 'test',
});

/** Queues a sweep straight into the store (no launch-time dataset check). */
export async function launch(store: TrialStore, yaml: string) {
  const spec = parseSweepSpec(yaml);
  return store.createSweep({ name: spec.name, spec, specText: yaml, plans: expandSweep(spec) });
}

/** What a tRPC call that must be refused was refused with: the error's data (codes, field issues) and message. */
export async function refusal(p: Promise<unknown>): Promise<{ code?: string; lmsweepCode?: string; httpStatus?: number; fieldIssues?: { path: string; message: string }[]; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TRPCClientError);
    const err = e as TRPCClientError<never>;
    return { ...(err.data as unknown as object), message: err.message };
  }
  throw new Error('expected the call to be refused');
}
