// The training process of a worker agent (training-process.ts forks it through
// training-child-boot.mjs): it selects the backend once, keeps the corpora it loaded, and trains
// one trial at a time as the agent asks, streaming progress, metric points, the trained
// checkpoint and the result (or the error) back. It never touches the network: the agent keeps
// the socket, the heartbeats and the transfers, on an event loop no training step blocks.
// A judged run waits after each validation point for the agent's verdict on it (the
// coordinator's, which judges the point the agent forwarded): continue, pause (the resume
// checkpoint goes to the agent, the run ends paused) or stop (the run ends there).
import { type MetricPoint, type PruneVerdict } from '@lmsweep/protocol';
import { AbortedError, datasetSearchDirs, isPaused, loadCorpus, type PauseOptions, resolveDataset, runTrial, type RunTrialOptions, selectBackend } from '@lmsweep/nn';
import { encodeError, type FromTraining, type ToTraining } from './training-wire.ts';

/** Progress messages at most this often (the last step's always): a tiny model steps in microseconds. */
const PROGRESS_EVERY_MS = 100;

// Ctrl-C reaches the whole process group: the agent decides what happens to the trial (it
// releases it, then ends this process), so the signal must not end this one first.
process.on('SIGINT', () => undefined);
// The agent is gone (it exited, or was killed): nobody is left to report to.
process.on('disconnect', () => process.exit(0));

const send = (m: FromTraining) => {
  if (process.connected) process.send!(m);
};

let backend: string | undefined;
/** The baseline checkpoint the last run was given: compression trials of one baseline come one after another. */
let cachedBaseline: { trialId: string; sha256: string; checkpoint: Uint8Array } | undefined;
/** The run in progress: its abort, its wait for the agent to store a checkpoint or to give a verdict, and the step a stop verdict ended it at. */
let current:
  | { run: number; abort: AbortController; stored?: (ok: boolean) => void; judging?: { step: number; answer: (a: PruneVerdict['action']) => void }; stoppedAt?: number }
  | undefined;

/** A view of exactly its bytes: a view into a larger buffer would be cloned with the whole buffer. */
const exact = (b: Uint8Array) => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice());

async function init(m: Extract<ToTraining, { type: 'init' }>): Promise<void> {
  try {
    const info = await selectBackend(m.backend, { ...(m.wasmThreads ? { wasmThreads: m.wasmThreads } : {}), ...(m.native !== undefined ? { native: m.native } : {}) });
    backend = info.backend;
    send({ type: 'ready', backend: info.backend, device: info.device });
  } catch (e) {
    send({ type: 'init-failed', error: e instanceof Error ? e.message : String(e) });
  }
}

async function run(m: Extract<ToTraining, { type: 'run' }>): Promise<void> {
  const abort = new AbortController();
  const me: NonNullable<typeof current> = { run: m.run, abort };
  current = me;
  try {
    const { config } = m;
    const dir = resolveDataset(config.dataset.name, datasetSearchDirs());
    const corpus = await loadCorpus(dir, { vocabSize: config.dataset.vocabSize });
    let baseline: { trialId: string; checkpoint: Uint8Array } | undefined;
    if (m.baseline) {
      const { trialId, sha256, checkpoint } = m.baseline;
      if (checkpoint) cachedBaseline = { trialId, sha256, checkpoint };
      else if (!(cachedBaseline && cachedBaseline.trialId === trialId && cachedBaseline.sha256 === sha256)) throw new Error(`the training process holds no checkpoint ${sha256.slice(0, 12)} of trial ${trialId}`);
      baseline = { trialId, checkpoint: cachedBaseline.checkpoint };
    }
    send({ type: 'started', run: m.run, dataset: dir, vocab: corpus.vocab.length });
    /** Sends a checkpoint to the agent and waits until it is stored (rejects when it could not be, or the run is stopped). */
    const handOver = (msg: Extract<FromTraining, { type: 'checkpoint' | 'resume-checkpoint' }>) =>
      new Promise<void>((resolve, reject) => {
        if (abort.signal.aborted) return reject(new Error('aborted'));
        me.stored = (ok) => (ok ? resolve() : reject(new Error('the agent could not store the checkpoint')));
        send(msg);
      });
    let lastProgress = 0;
    const opts: RunTrialOptions = {
      config,
      seed: m.seed,
      corpus,
      signal: abort.signal,
      ...(backend ? { backend } : {}),
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastProgress < PROGRESS_EVERY_MS && p.step < p.totalSteps) return;
        lastProgress = now;
        send({ type: 'progress', run: m.run, progress: p });
      },
      onMetrics: (points: MetricPoint[]) => send({ type: 'metrics', run: m.run, points }),
      ...(baseline ? { baseline } : {}),
      ...(m.resume ? { resume: m.resume } : {}),
      ...(m.saveCheckpoint ? { onCheckpoint: (data: Uint8Array) => handOver({ type: 'checkpoint', run: m.run, data: exact(data) }) } : {}),
    };
    const judge = (step: number) =>
      new Promise<PruneVerdict['action']>((resolve) => {
        if (abort.signal.aborted) return resolve('continue'); // the run ends at its next step anyway
        me.judging = { step, answer: (a) => ((me.judging = undefined), resolve(a)) };
        send({ type: 'judge', run: m.run, step });
      });
    const pause: PauseOptions = {
      at: async (step, point) => {
        // Only a step that measured valid_ppl is judged; runTrial sent its points before asking.
        if (point.lastValid?.step !== step) return false;
        const action = await judge(step);
        if (action === 'stop') {
          // runTrial ends at the next step boundary, with nothing more measured.
          me.stoppedAt = step;
          abort.abort('stopped by its verdict');
        }
        return action === 'pause';
      },
      onCheckpoint: (data, paused) => handOver({ type: 'resume-checkpoint', run: m.run, data: exact(data), paused }),
    };
    const outcome = m.judged ? await runTrial({ ...opts, pause }) : await runTrial(opts);
    send(isPaused(outcome) ? { type: 'paused', run: m.run, paused: outcome } : { type: 'result', run: m.run, result: outcome });
  } catch (e) {
    if (e instanceof AbortedError && me.stoppedAt !== undefined) send({ type: 'stopped', run: m.run, step: me.stoppedAt });
    else send({ type: 'failed', run: m.run, error: encodeError(e) });
  } finally {
    if (current === me) current = undefined;
  }
}

process.on('message', (m: ToTraining) => {
  switch (m.type) {
    case 'init':
      void init(m);
      break;
    case 'run':
      void run(m);
      break;
    case 'abort':
      if (current?.run === m.run) {
        current.abort.abort(m.reason);
        current.stored?.(false);
        current.judging?.answer('continue');
      }
      break;
    case 'verdict':
      if (current?.run === m.run && current.judging?.step === m.step) current.judging.answer(m.action);
      break;
    case 'stored':
      if (current?.run === m.run) current.stored?.(m.ok);
      break;
  }
});
