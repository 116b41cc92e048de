// A bare protocol client for tests: speaks the worker protocol message by message, so a test can
// play a stale, duplicated or malformed worker against a real coordinator.
import WebSocket from 'ws';
import { type CoordinatorMessage, decodeJson, encodeMessage, PROTOCOL_VERSION } from '@lmsweep/protocol';
import { workerUrl } from '../../worker/src/agent.ts';

export class ProtocolClient {
  readonly received: CoordinatorMessage[] = [];
  private waiters: { pred: (m: CoordinatorMessage) => boolean; resolve: (m: CoordinatorMessage) => void }[] = [];
  private n = 0;
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = decodeJson(String(d)) as CoordinatorMessage;
      this.received.push(m);
      this.waiters = this.waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static async connect(coordinatorUrl: string, options?: WebSocket.ClientOptions): Promise<ProtocolClient> {
    const ws = new WebSocket(workerUrl(coordinatorUrl), options);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    return new ProtocolClient(ws);
  }

  nextId(): string {
    return `m${++this.n}-${Math.random().toString(36).slice(2, 8)}`;
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  next(pred: (m: CoordinatorMessage) => boolean = () => true, timeoutMs = 10_000): Promise<CoordinatorMessage> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a coordinator message')), timeoutMs);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(t), resolve(m)) });
    });
  }

  /** Sends a message and waits for the reply naming its msgId. */
  async request(msg: Record<string, unknown>): Promise<CoordinatorMessage> {
    const msgId = (msg.msgId as string | undefined) ?? this.nextId();
    const reply = this.next((m) => 'replyTo' in m && m.replyTo === msgId);
    this.ws.send(encodeMessage({ ...msg, msgId }));
    return reply;
  }

  async hello(name = 'test-worker'): Promise<string> {
    const r = await this.request({ type: 'hello', protocol: PROTOCOL_VERSION, name, host: 'localhost', backend: 'none', device: 'test', version: 'test' });
    if (r.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(r)}`);
    return r.workerId;
  }

  close(): void {
    this.ws.terminate();
  }
}
