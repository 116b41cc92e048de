// The verdict's round trip in `lmsweep bench prune`: simulated workers (real websocket clients)
// work a pruned sweep (ASHA with promotion) against a coordinator on loopback. Each trains
// evaluation by evaluation in no time but `thinkMs` between evaluations, sends every judged
// validation point in a metric message and waits for the verdict in its answer, obeys it (a
// pause uploads a small resume checkpoint and says paused; a promoted trial resumes), and
// completes at the end. Measured: the metric message's round trip with its verdict, p50/p99/max.
import { createHash } from 'node:crypto';
import os from 'node:os';
import WebSocket from 'ws';
import { type AssignedTrial, type CoordinatorMessage, decodeJson, encodeMessage, PROTOCOL_VERSION, resumeArtifactName, type TrialResult } from '@lmsweep/protocol';

const MAX_STEPS = 900;
const EVERY = 100;

/** A pruned grid of `configs` learning rates, its perplexity known from the learning rate (best at 0.01). */
export function prunedSpec(configs: number) {
  const lrs = Array.from({ length: configs }, (_, k) => Number((10 ** (-4 + (3 * k) / Math.max(1, configs - 1))).toPrecision(6)));
  return {
    name: `prune-verdicts-${configs}`,
    dataset: { name: 'ptb', vocabSize: 10 },
    budget: { maxSteps: MAX_STEPS, evalEvery: EVERY },
    grid: { 'training.lr': [...new Set(lrs)] },
    pruner: { type: 'asha', minSteps: EVERY, reduction: 3, promotion: true },
  };
}

const value = (lr: number, step: number) => (100 + 30 * (Math.log10(lr) + 2) ** 2) * (1 + 2 * Math.exp(-step / 300));
const RESULT: TrialResult = { params: 1000, paramsByLayer: { all: 1000 }, validPpl: 100, testPpl: 101, steps: MAX_STEPS, tokens: 1, seconds: 0, tokensPerSecond: 0, vocabSize: 10, backend: 'bench' };

class Client {
  private n = 0;
  private readonly pending = new Map<string, (m: CoordinatorMessage) => void>();
  workerId = '';
  key = '';
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = decodeJson(String(d)) as CoordinatorMessage;
      const r = 'replyTo' in m && m.replyTo ? this.pending.get(m.replyTo) : undefined;
      if (r && 'replyTo' in m && m.replyTo) {
        this.pending.delete(m.replyTo);
        r(m);
      }
    });
  }
  static async connect(url: string, name: string): Promise<Client> {
    const u = new URL(url);
    u.protocol = 'ws:';
    u.pathname = '/worker';
    const ws = new WebSocket(u);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const c = new Client(ws);
    const r = await c.request({ type: 'hello', protocol: PROTOCOL_VERSION, name, host: os.hostname(), backend: 'bench', device: 'none', version: 'bench' });
    if (r.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(r)}`);
    c.workerId = r.workerId;
    c.key = r.workerKey;
    return c;
  }
  request(msg: Record<string, unknown>): Promise<CoordinatorMessage> {
    const msgId = `${++this.n}`;
    return new Promise((resolve) => {
      this.pending.set(msgId, resolve);
      this.ws.send(encodeMessage({ ...msg, msgId }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

export interface VerdictLatency {
  workers: number;
  reports: number;
  verdicts: { continue: number; pause: number; stop: number };
  promotions: number;
  seconds: number;
  /** Round trips of judged metric messages, ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Works the sweep with `workers` simulated workers until `done()`; `thinkMs` between evaluations (0: back to back). */
export async function driveVerdicts(url: string, workers: number, thinkMs: number, done: () => Promise<boolean>): Promise<VerdictLatency> {
  const clients = await Promise.all(Array.from({ length: workers }, (_, i) => Client.connect(url, `prune-sim-${i}`)));
  const latencies: number[] = [];
  const verdicts = { continue: 0, pause: 0, stop: 0 };
  let promotions = 0;
  const t0 = performance.now();
  const think = () => (thinkMs > 0 ? sleep(thinkMs * (0.5 + Math.random())) : undefined);
  let finished = false;
  await Promise.all(
    clients.map(async (w) => {
      if (thinkMs > 0) await sleep(thinkMs * Math.random());
      while (!finished) {
        const r = await w.request({ type: 'claim' });
        if (r.type !== 'assign') {
          if (await done()) finished = true;
          else await sleep(r.type === 'idle' ? Math.min(r.retryMs, 200) : 200);
          continue;
        }
        const t: AssignedTrial = r.trial;
        const lr = (t.config as { training: { lr: number } }).training.lr;
        if (t.resume) promotions++;
        let ended = false;
        for (let step = (t.resume?.step ?? 0) + EVERY; step <= MAX_STEPS && !ended; step += EVERY) {
          await think();
          const judge = step < MAX_STEPS;
          const s = performance.now();
          const ack = await w.request({ type: 'metric', trialId: t.id, attempt: t.attempt, points: [{ step, epoch: 0, name: 'valid_ppl', value: value(lr, step) }], ...(judge ? { judge: true } : {}) });
          if (!judge) continue;
          latencies.push(performance.now() - s);
          const v = ack.type === 'ack' ? ack.verdict : undefined;
          if (!v) throw new Error(`no verdict on a judged point: ${JSON.stringify(ack)}`);
          verdicts[v.action]++;
          if (v.action === 'continue') continue;
          ended = true;
          if (v.action === 'pause') {
            const body = new TextEncoder().encode(`${t.id}@${step}`);
            const sha256 = createHash('sha256').update(body).digest('hex');
            const put = await fetch(new URL(`/artifacts/${encodeURIComponent(t.id)}/${resumeArtifactName(t.attempt)}`, url), {
              method: 'PUT',
              body,
              headers: { 'x-lmsweep-worker': w.workerId, 'x-lmsweep-worker-key': w.key, 'x-lmsweep-attempt': String(t.attempt), 'x-lmsweep-sha256': sha256 },
            });
            if (!put.ok) throw new Error(`resume checkpoint refused: HTTP ${put.status}`);
            await w.request({ type: 'paused', trialId: t.id, attempt: t.attempt, step, sha256, seconds: 0 });
          }
        }
        if (!ended) await w.request({ type: 'complete', trialId: t.id, attempt: t.attempt, result: RESULT });
      }
    }),
  );
  for (const c of clients) c.close();
  latencies.sort((a, b) => a - b);
  return { workers, reports: latencies.length, verdicts, promotions, seconds: (performance.now() - t0) / 1000, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), maxMs: latencies.at(-1) ?? NaN };
}
