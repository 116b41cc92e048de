// A judged run in the training process (issue 14), driven through TrainingSide as the agent
// drives it: at each validation point, once that point's metrics reached the agent, it waits for
// a verdict. Pause hands over the resume checkpoint, and another training process continues it to
// the end as if it had never stopped; stop ends the run there; a run stopped (cancel, lost lease)
// while it waits ends too, and the process takes the next run.
//
// Tolerance: none. Both processes train on the same backend (wasm, one thread, the native kernels
// where built), so the resumed run's points are compared bit for bit (toEqual on the numbers)
// with those of the trial run straight through.
import pino from 'pino';
import { type MetricPoint, type PruneVerdict, TrialConfig, type TrialResult } from '@lmsweep/protocol';
import { AbortedError, type TrialPaused } from '@lmsweep/nn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TrainingJob, type TrainingOutcome, TrainingSide } from '../src/training-process.ts';

const log = pino({ level: 'silent' });
const SEED = 11;
const tiny = (budget: Record<string, unknown>) =>
  TrialConfig.parse({ dataset: { name: 'ptb', vocabSize: 200 }, model: { embedding: 8, hidden: 8, layers: 1, dropout: 0.3 }, training: { batchSize: 4, unroll: 5, optimizer: 'adam', lr: 0.01 }, budget });
// Validation every 5 steps: judged at 5, 10, 15, 20, 25 (the last step's is the result, not judged).
const config = tiny({ maxSteps: 30, evalEvery: 5, evalTokens: 200 });

let first: TrainingSide;
let second: TrainingSide;
beforeAll(async () => {
  [first, second] = (await Promise.all([TrainingSide.start({ backend: 'wasm', log }), TrainingSide.start({ backend: 'wasm', log })])).map((s) => s.side) as [TrainingSide, TrainingSide];
});
afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
});

interface Driven {
  outcome: TrainingOutcome;
  points: MetricPoint[];
  /** Each question: its step, and whether that step's valid_ppl point had reached onMetrics before it. */
  asked: { step: number; pointFirst: boolean }[];
  handedOver?: { data: Uint8Array; paused: TrialPaused };
}

/** Runs `config` judged, answering each question with `verdict`. */
async function drive(side: TrainingSide, verdict: (step: number) => PruneVerdict['action'], over: Partial<TrainingJob> = {}): Promise<Driven> {
  const d: Omit<Driven, 'outcome'> = { points: [], asked: [] };
  const outcome = await side.run({
    config,
    seed: SEED,
    signal: new AbortController().signal,
    onMetrics: (ps) => void d.points.push(...ps),
    judge: async (step) => {
      d.asked.push({ step, pointFirst: d.points.some((p) => p.name === 'valid_ppl' && p.step === step) });
      return verdict(step);
    },
    onResumeCheckpoint: async (data, paused) => void (d.handedOver = { data, paused }),
    ...over,
  });
  return { ...d, outcome };
}

const asked = (steps: number[]) => steps.map((step) => ({ step, pointFirst: true }));
const withoutTimings = ({ seconds: _s, tokensPerSecond: _t, ...r }: TrialResult) => r;

describe('a judged run in the training process', () => {
  it('is told to pause at its second evaluation; another training process resumes it, and the curve after the pause equals the straight run bit for bit', async () => {
    expect(second.pid()).not.toBe(first.pid());
    const straight = await drive(first, () => 'continue');
    expect(straight.asked).toEqual(asked([5, 10, 15, 20, 25]));
    expect(straight.outcome).toMatchObject({ steps: 30 });

    const paused = await drive(first, (step) => (step === 10 ? 'pause' : 'continue'));
    expect(paused.asked).toEqual(asked([5, 10]));
    const p = paused.outcome as TrialPaused;
    expect(p).toMatchObject({ paused: true, step: 10, totalSteps: 30, lastValid: { step: 10 } });
    expect(paused.handedOver?.paused).toEqual(p);
    expect(paused.handedOver!.data.length).toBeGreaterThan(1000);
    // Up to the pause it is the same run, and nothing was measured after it.
    expect(paused.points).toEqual(straight.points.filter((q) => q.step <= 10));

    const resumed = await drive(second, () => 'continue', { resume: { checkpoint: paused.handedOver!.data } });
    expect(resumed.asked).toEqual(asked([15, 20, 25]));
    expect(resumed.points.map((q) => q.name)).toEqual(expect.arrayContaining(['train_loss', 'valid_ppl', 'test_ppl', 'lr']));
    expect(resumed.points).toEqual(straight.points.filter((q) => q.step > 10));
    expect(withoutTimings(resumed.outcome as TrialResult)).toEqual(withoutTimings(straight.outcome as TrialResult));
  }, 120_000);

  it('is told to stop at its second evaluation: the run ends there at once with the stop outcome, and the process takes the next run', async () => {
    // Far more steps than the test waits for: only the verdict can end it.
    const long = tiny({ maxSteps: 100_000, evalEvery: 5, evalTokens: 200 });
    let answered = 0;
    const stopped = await drive(
      first,
      (step) => {
        answered = performance.now();
        return step === 10 ? 'stop' : 'continue';
      },
      { config: long },
    );
    const ms = performance.now() - answered;
    expect(stopped.outcome).toEqual({ stopped: true, step: 10 });
    expect(ms, `the run ended ${Math.round(ms)} ms after the stop`).toBeLessThan(2_000);
    expect(stopped.asked).toEqual(asked([5, 10]));
    expect(Math.max(...stopped.points.map((q) => q.step))).toBe(10);
    const pid = first.pid();
    const next = await first.run({ config: tiny({ maxSteps: 3, evalTokens: 100 }), seed: 1, signal: new AbortController().signal });
    expect(next).toMatchObject({ steps: 3 });
    expect(first.pid()).toBe(pid);
  }, 60_000);

  it('stopped (a cancel, a lost lease) while it waits for a verdict: it ends with AbortedError, and the process takes the next run', async () => {
    const stop = new AbortController();
    let waits = 0;
    const run = first.run({
      config: tiny({ maxSteps: 100_000, evalEvery: 5, evalTokens: 200 }),
      seed: SEED,
      signal: stop.signal,
      judge: () => {
        waits++;
        setTimeout(() => stop.abort('cancelled'), 50);
        return new Promise<never>(() => undefined); // the verdict never comes
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortedError);
    expect(waits).toBe(1);
    const pid = first.pid();
    // The next run starts only once the stopped one has ended in the process.
    await expect(first.run({ config: tiny({ maxSteps: 3, evalTokens: 100 }), seed: 1, signal: new AbortController().signal })).resolves.toMatchObject({ steps: 3 });
    expect(first.pid()).toBe(pid);
  }, 60_000);
});
