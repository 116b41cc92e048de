// A simulated worker of the benchmarks (bench load, bench prune-latency): a bare protocol client
// over a real websocket, one request in flight at a time, answers matched to requests by msgId.
import os from 'node:os';
import WebSocket from 'ws';
import { type CoordinatorMessage, decodeJson, encodeMessage, PROTOCOL_VERSION } from '@lmsweep/protocol';

/** One simulated worker: a bare protocol client, one request in flight at a time. */
export class SimWorker {
  private n = 0;
  private readonly pending = new Map<string, (m: CoordinatorMessage) => void>();
  /** From the welcome: what authenticates its artifact uploads. */
  workerId = '';
  workerKey = '';
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
  static async connect(url: string, name: string): Promise<SimWorker> {
    const u = new URL(url);
    u.protocol = 'ws:';
    u.pathname = '/worker';
    const ws = new WebSocket(u);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const w = new SimWorker(ws);
    const r = await w.request({ type: 'hello', protocol: PROTOCOL_VERSION, name, host: os.hostname(), backend: 'bench', device: 'none', version: 'bench' });
    if (r.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(r)}`);
    w.workerId = r.workerId;
    w.workerKey = r.workerKey;
    return w;
  }
  request(msg: Record<string, unknown>): Promise<CoordinatorMessage> {
    const msgId = `${++this.n}`;
    return new Promise((resolve) => {
      this.pending.set(msgId, resolve);
      this.ws.send(encodeMessage({ ...msg, msgId }));
    });
  }
  send(msg: Record<string, unknown>): void {
    this.ws.send(encodeMessage({ ...msg, msgId: `${++this.n}` }));
  }
  close(): void {
    this.ws.close();
  }
}
