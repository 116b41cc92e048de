// Checkpoints as files in an artifact directory (`lmsweep coordinator --artifacts DIR`), against a
// real coordinator and the worker's own transfer code: sealed among the objects only when whole,
// served back byte for byte, a replaced one deleted, orphans collected, an artifact stored in the
// database before still readable, sizes past 2 GiB, and a 1 GB checkpoint stored and read back by
// a coordinator process whose memory stays bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@lmsweep/protocol';
import { startCoordinator, type Coordinator } from '../src/server.ts';
import { downloadArtifact, LeaseLostError, uploadArtifact } from '../../worker/src/artifacts.ts';
import { launch, result } from './helpers.ts';
import { ProtocolClient } from './ws-client.ts';

const BIN = path.resolve(import.meta.dirname, '../../../tools/cli/bin/lmsweep.js');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lmsweep-artifact-files-'));
const open: Coordinator[] = [];
afterAll(async () => {
  for (const c of open) await c.close().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const start = async (o: { dir?: string; database?: string }) => {
  const c = await startCoordinator({ port: 0, databaseUrl: o.database ?? 'memory://', leaseMs: 60_000, ...(o.dir ? { artifactsDir: o.dir } : {}) });
  open.push(c);
  return c;
};
/** A base trial (its svd child needs its checkpoint) claimed by a registered worker. */
async function claimedBase(c: Coordinator, sweep = 'files') {
  await launch(c.store, `name: ${sweep}\ngrid: { method: [svd] }`);
  const w = (await c.store.registerWorker({ name: 'w', host: 'h', backend: 'wasm', device: 'cpu', version: '1' }))!;
  const t = (await c.store.claim(w.id, 60_000))!;
  expect(t.saveCheckpoint).toBe(true);
  return { t, w, as: () => ({ id: w.id, key: w.key }) };
}
const bytes = (n: number, salt: number) => new Uint8Array(n).map((_, i) => (i * 7 + salt) & 255);
const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe('checkpoints in an artifact directory', () => {
  it('a worker\'s upload becomes one sealed file (no chunks in the database), served back whole; a newer one replaces it and the old file goes', async () => {
    const dir = path.join(tmp, 'a');
    const c = await start({ dir });
    const { t, as } = await claimedBase(c);
    const first = bytes(9 << 20, 1); // more than two 4 MiB pieces
    await uploadArtifact(t, as, first, { coordinatorUrl: c.url });
    const a = (await c.store.artifacts.info(t.id, 'checkpoint'))!;
    expect(a).toMatchObject({ location: 'files', size: first.length, sha256: sha(first) });
    expect(ls(path.join(dir, 'objects'))).toEqual([a.uploadId]);
    expect(ls(path.join(dir, 'uploads'))).toEqual([]);
    expect(await c.store.prisma.artifactChunk.count()).toBe(0);

    // The same attempt uploads again (a retry after a lost answer): the new file replaces the old.
    const second = bytes(5 << 20, 2);
    await uploadArtifact(t, as, second, { coordinatorUrl: c.url });
    const b = (await c.store.artifacts.info(t.id, 'checkpoint'))!;
    expect(b.uploadId).not.toBe(a.uploadId);
    expect(ls(path.join(dir, 'objects'))).toEqual([b.uploadId]);
    expect(await c.store.complete(t.id, as().id, t.attempt, result(50))).toBe('ok');

    // The compression trial downloads it, as a worker does.
    const child = (await c.store.claim('w-child', 60_000))!;
    expect(child.parent).toEqual({ trialId: t.id, sha256: sha(second), bytes: second.length });
    const got = await downloadArtifact(t.id, child.parent!, { coordinatorUrl: c.url });
    expect(sha(got)).toBe(sha(second));
  });

  it('an upload whose lease is lost leaves no file; a stale one is refused before its body', async () => {
    const dir = path.join(tmp, 'b');
    const c = await start({ dir });
    const { t, as } = await claimedBase(c);
    const other = (await c.store.registerWorker({ name: 'o', host: 'h', backend: 'wasm', device: 'cpu', version: '1' }))!;
    await expect(uploadArtifact(t, () => ({ id: other.id, key: other.key }), bytes(1 << 20, 3), { coordinatorUrl: c.url })).rejects.toBeInstanceOf(LeaseLostError);
    // The lease is lost mid-upload: pieces after it are refused, and what was written is deleted.
    const u = c.store.artifacts.newUpload(t.id, as().id, t.attempt);
    expect(await c.store.artifacts.putChunk(u, 0, bytes(1000, 4))).toBe(true);
    expect(ls(path.join(dir, 'uploads'))).toEqual([u.uploadId]);
    await c.store.release(t.id, as().id, t.attempt, 'test');
    expect(await c.store.artifacts.putChunk(u, 1, bytes(1000, 5))).toBe(false);
    expect(await c.store.artifacts.finish(u, 'checkpoint', { sha256: '0'.repeat(64), size: 1000, chunks: 1 })).toBe('lost');
    await c.store.artifacts.discard(u);
    expect([...ls(path.join(dir, 'uploads')), ...ls(path.join(dir, 'objects'))]).toEqual([]);
    expect(await c.store.artifacts.info(t.id, 'checkpoint')).toBeNull();
  });

  it('the reaper\'s collection deletes files nothing points at once older than any upload lasts, and keeps the artifact\'s', async () => {
    const dir = path.join(tmp, 'c');
    const c = await start({ dir });
    const { t, as } = await claimedBase(c);
    await uploadArtifact(t, as, bytes(1000, 6), { coordinatorUrl: c.url });
    const kept = (await c.store.artifacts.info(t.id, 'checkpoint'))!.uploadId;
    // A crashed coordinator's unfinished upload, an object whose row never committed, and a live upload.
    const [crashed, unreferenced, live] = ['crashedUpload0001', 'neverCommitted001', 'liveUpload000001'];
    writeFileSync(path.join(dir, 'uploads', crashed), 'x');
    writeFileSync(path.join(dir, 'objects', unreferenced), 'y');
    writeFileSync(path.join(dir, 'uploads', live), 'z');
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const f of [path.join(dir, 'uploads', crashed), path.join(dir, 'objects', unreferenced), path.join(dir, 'objects', kept)]) utimesSync(f, hourAgo, hourAgo);
    expect(await c.store.artifacts.collectOrphans(600_000)).toBe(2);
    expect(ls(path.join(dir, 'uploads'))).toEqual([live]);
    expect(ls(path.join(dir, 'objects'))).toEqual([kept]);
  });

  it('a checkpoint stored in the database stays readable after a restart with --artifacts; new ones go to files', async () => {
    const database = path.join(tmp, 'db-d');
    const before = await start({ database });
    const { t, as } = await claimedBase(before, 'restart');
    const old = bytes(100_000, 7);
    await uploadArtifact(t, as, old, { coordinatorUrl: before.url });
    await before.close();
    open.splice(open.indexOf(before), 1);
    const dir = path.join(tmp, 'd');
    const after = await start({ database, dir });
    expect(await after.store.artifacts.info(t.id, 'checkpoint')).toMatchObject({ location: 'database', size: old.length });
    expect(sha(await downloadArtifact(t.id, { sha256: sha(old), bytes: old.length }, { coordinatorUrl: after.url }))).toBe(sha(old));
    expect(ls(path.join(dir, 'objects'))).toEqual([]);
  });

  it('a checkpoint past 2 GiB (a sparse 3 GiB file) is recorded and handed to its compression trial with its exact size', async () => {
    const c = await start({ dir: path.join(tmp, 'sparse') });
    const { t, as } = await claimedBase(c, 'sparse');
    const u = c.store.artifacts.newUpload(t.id, as().id, t.attempt);
    expect(await c.store.artifacts.putChunk(u, 0, bytes(10, 8))).toBe(true);
    const size = 3 * 2 ** 30;
    truncateSync(path.join(tmp, 'sparse', 'uploads', u.uploadId), size);
    expect(await c.store.artifacts.finish(u, 'checkpoint', { sha256: 'a'.repeat(64), size, chunks: 768 })).toBe('ok');
    expect((await c.store.artifacts.info(t.id, 'checkpoint'))!.size).toBe(size);
    expect(await c.store.complete(t.id, as().id, t.attempt, result(50))).toBe('ok');
    expect((await c.store.claim('w-sparse-child', 60_000))!.parent).toEqual({ trialId: t.id, sha256: 'a'.repeat(64), bytes: size });
  });

  it('an artifact directory that cannot be written stops the coordinator at start, naming it', async () => {
    const file = path.join(tmp, 'not-a-dir');
    writeFileSync(file, '');
    await expect(startCoordinator({ port: 0, databaseUrl: 'memory://', artifactsDir: path.join(file, 'sub') })).rejects.toThrow(/artifact directory .*not-a-dir\/sub/);
  });

  it('a 1 GB checkpoint is stored and read back by a coordinator process whose memory stays bounded', { timeout: 300_000 }, async () => {
    const GB = 2 ** 30;
    const dir = path.join(tmp, 'big');
    const proc: ChildProcess = spawn(process.execPath, [BIN, 'coordinator', '--port', '0', '--database', 'memory://', '--artifacts', dir, '--max-artifact-size', '2GiB', '--log', 'json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LMSWEEP_LOG_LEVEL: 'warn' },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        proc.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /coordinator listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        proc.once('exit', (code) => reject(new Error(`coordinator exited (${code}): ${out}`)));
      });
      const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]) * 1024;
      // A sweep, and a worker on the websocket holding its base trial's lease.
      const created = await fetch(`${url}/trpc/sweeps.create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: 'name: big\ngrid: { method: [svd] }' }) });
      expect(created.status, await created.clone().text()).toBe(200);
      const ws = await ProtocolClient.connect(url);
      const welcome = (await ws.request({ type: 'hello', protocol: PROTOCOL_VERSION, name: 'big', host: 'h', backend: 'wasm', device: 'cpu', version: '1' })) as { workerId: string; workerKey: string };
      const assign = (await ws.request({ type: 'claim' })) as { type: string; trial: { id: string; attempt: number } };
      expect(assign.type).toBe('assign');
      const rssBefore = kib('VmRSS');

      // 1 GiB streamed from a generator: never whole in this process either.
      const piece = Buffer.alloc(1 << 20);
      const hash = createHash('sha256');
      const pieces = GB / piece.length;
      const fill = (i: number) => {
        for (let j = 0; j < piece.length; j += 4) piece.writeUInt32LE((i * 2654435761 + j) >>> 0, j);
        return piece;
      };
      // The digest first (the header goes before the body), then the same bytes again as the body.
      for (let i = 0; i < pieces; i++) hash.update(fill(i));
      const digest = hash.digest('hex');
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${url}/artifacts/${assign.trial.id}/checkpoint`, {
          method: 'PUT',
          headers: { 'content-length': String(GB), 'x-lmsweep-worker': welcome.workerId, 'x-lmsweep-worker-key': welcome.workerKey, 'x-lmsweep-attempt': String(assign.trial.attempt), 'x-lmsweep-sha256': digest },
        });
        req.on('response', (res) => (res.resume(), resolve(res.statusCode!)));
        req.on('error', reject);
        let i = 0;
        const write = () => {
          while (i < pieces) if (!req.write(Buffer.from(fill(i++)))) return void req.once('drain', write);
          req.end();
        };
        write();
      });
      expect(status).toBe(200);
      expect(ls(path.join(dir, 'objects')).length).toBe(1);

      // Read back, hashed as it streams.
      const back = createHash('sha256');
      let got = 0;
      await new Promise<void>((resolve, reject) => {
        http.get(`${url}/artifacts/${assign.trial.id}/checkpoint`, (res) => {
          expect(res.headers['x-lmsweep-sha256']).toBe(digest);
          res.on('data', (d: Buffer) => {
            back.update(d);
            got += d.length;
          });
          res.on('end', resolve);
          res.on('error', reject);
        });
      });
      expect([got, back.digest('hex')]).toEqual([GB, digest]);
      // The coordinator's peak resident memory grew by far less than the checkpoint: bounded by its pieces.
      const grew = kib('VmHWM') - rssBefore;
      expect(grew).toBeLessThan(256 * 2 ** 20);
      ws.close();
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    }
  });
});
