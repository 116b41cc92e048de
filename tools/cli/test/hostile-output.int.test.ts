// Terminal escape injection (issue 12.6): a sweep named, and a worker (name, host, device) and a
// trial error crafted, to recolour, retitle or reorder a person's terminal. Through a real
// coordinator and websocket, then the real `lmsweep` bin: every table and message shows those
// characters as visible escapes, and the JSON lines still carry the exact strings.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJson, encodeMessage, PROTOCOL_VERSION, WORKER_PATH } from '@lmsweep/protocol';
import { startCoordinator, type Coordinator } from '@lmsweep/coordinator';

const BIN = path.resolve(import.meta.dirname, '../bin/lmsweep.js');
/** What a terminal acts on instead of printing (newline aside). */
const DANGEROUS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const SWEEP_NAME = 'evil \x1b[2J\x1b[31mred\x1b]0;pwned\x07 \u202egpj.exe';
const WORKER = { name: 'w\x1b[1A\x1b[2Kfake', host: 'h\u2067ost\u2069\r', device: 'gpu\x9b31m' };
const TRIAL_ERROR = 'boom\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\\nSECOND LINE \u202e';

let c: Coordinator;
let dir: string;
let ws: WebSocket;
let sweepId = '';

function lmsweep(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, '--coordinator', c.url], { timeout: 60_000, env: { ...process.env, LMSWEEP_LOG_LEVEL: 'silent' } }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/** One request of a bare protocol client and its reply. */
function request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  const msgId = Math.random().toString(36).slice(2);
  return new Promise((resolve) => {
    const on = (d: WebSocket.RawData) => {
      const m = decodeJson(String(d)) as Record<string, unknown>;
      if (m.replyTo === msgId) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
    ws.send(encodeMessage({ ...msg, msgId }));
  });
}

beforeAll(async () => {
  c = await startCoordinator({ port: 0, databaseUrl: 'memory://', log: pino({ level: 'silent' }) });
  dir = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-hostile-'));
  const spec = path.join(dir, 'evil.json');
  writeFileSync(spec, JSON.stringify({ name: SWEEP_NAME, dataset: { name: 'ptb', vocabSize: 10 }, model: { embedding: 4, hidden: 4, layers: 1 }, budget: { maxSteps: 1 }, seeds: 2 }));
  const launched = await lmsweep(['launch', spec, '--json']);
  expect(launched.code, launched.stderr).toBe(0);
  sweepId = JSON.parse(launched.stdout).id;

  const u = new URL(c.url);
  u.protocol = 'ws:';
  u.pathname = WORKER_PATH;
  ws = new WebSocket(u);
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const welcome = await request({ type: 'hello', protocol: PROTOCOL_VERSION, ...WORKER, backend: 'bench', version: 'test' });
  expect(welcome.type).toBe('welcome');
  const assign = (await request({ type: 'claim' })) as { type: string; trial: { id: string; attempt: number } };
  expect(assign.type).toBe('assign');
  const ack = await request({ type: 'fail', trialId: assign.trial.id, attempt: assign.trial.attempt, kind: 'error', retryable: false, error: TRIAL_ERROR });
  expect(ack.type).toBe('ack');
}, 120_000);

afterAll(async () => {
  ws?.close();
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('strings from the coordinator, printed by the CLI', () => {
  it('launch, sweeps, workers, trials: escapes and bidi characters shown, never sent to the terminal', async () => {
    const launch = await lmsweep(['launch', path.join(dir, 'evil.json')]);
    expect(launch.code, launch.stderr).toBe(0);
    expect(launch.stderr).not.toMatch(DANGEROUS);
    expect(launch.stderr).toContain('sweep "evil \\u001b[2J\\u001b[31mred\\u001b]0;pwned\\u0007 \\u202egpj.exe" queued');

    const [sweeps, workers, trials, csv] = await Promise.all([lmsweep(['sweeps']), lmsweep(['workers']), lmsweep(['trials', '--sweep', sweepId]), lmsweep(['trials', '--sweep', sweepId, '--csv'])]);
    for (const r of [sweeps, workers, trials, csv]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(DANGEROUS);
      expect(r.stderr).not.toMatch(DANGEROUS);
    }
    expect(sweeps.stdout).toContain('evil \\u001b[2J\\u001b[31mred');
    expect(workers.stdout).toContain('w\\u001b[1A\\u001b[2Kfake');
    expect(workers.stdout).toContain('h\\u2067ost\\u2069\\r');
    expect(workers.stdout).toContain('gpu\\u009b31m');
    // The failed trial's error, on one line: its newline cannot fake a row.
    expect(trials.stdout).toContain('boom\\u001b]8;;http://evil.example/\\u001b\\click\\u001b]8;;\\u001b\\\\nSECOND LINE \\u202e');
    expect(trials.stdout).not.toMatch(/^SECOND LINE/m);
    expect(csv.stdout).toContain('boom\\u001b]8;;');
  }, 120_000);

  it('--json lines stay valid JSON carrying the exact strings', async () => {
    const [sweeps, workers, trials] = await Promise.all([lmsweep(['sweeps', '--json']), lmsweep(['workers', '--json']), lmsweep(['trials', '--sweep', sweepId, '--json'])]);
    for (const r of [sweeps, workers, trials]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(DANGEROUS);
    }
    const parse = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parse(sweeps.stdout).map((s) => s.name)).toContain(SWEEP_NAME);
    expect(parse(workers.stdout).find((w) => w.name === WORKER.name)).toMatchObject(WORKER);
    expect(parse(trials.stdout).map((t) => t.error)).toContain(TRIAL_ERROR);
  }, 120_000);
});
