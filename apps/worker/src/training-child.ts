// The training process of a worker agent (training-process.ts forks it through
// training-child-boot.mjs): it selects the backend once, keeps the corpora it loaded, and trains
// one trial at a time as the agent asks, streaming progress, metric points, the trained
// checkpoint and the result (or the error) back. It never touches the network: the agent keeps
// the socket, the heartbeats and the transfers, on an event loop no training step blocks.
import { type MetricPoint, type TrialResult } from '@lmsweep/protocol';
import { datasetSearchDirs, loadCorpus, resolveDataset, runTrial, selectBackend } from '@lmsweep/nn';
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
/** The run in progress: its abort, and its wait for the agent to store the checkpoint. */
let current: { run: number; abort: AbortController; stored?: (ok: boolean) => void } | undefined;

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
    let lastProgress = 0;
    const result: TrialResult = await runTrial({
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
      ...(m.saveCheckpoint
        ? {
            onCheckpoint: (data: Uint8Array) =>
              new Promise<void>((resolve, reject) => {
                if (abort.signal.aborted) return reject(new Error('aborted'));
                me.stored = (ok) => (ok ? resolve() : reject(new Error('the agent could not store the checkpoint')));
                send({ type: 'checkpoint', run: m.run, data: exact(data) });
              }),
          }
        : {}),
    });
    send({ type: 'result', run: m.run, result });
  } catch (e) {
    send({ type: 'failed', run: m.run, error: encodeError(e) });
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
      }
      break;
    case 'stored':
      if (current?.run === m.run) current.stored?.(m.ok);
      break;
  }
});
