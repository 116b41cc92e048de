// The dashboard's guards: who may launch through it, and what another site's page, a guesser or
// a client on the network can make it do. A real coordinator (PGlite in memory) with
// LMSWEEP_API_TOKEN, the built dashboard under `next start` with the same token (and one without,
// in front of a tokenless coordinator), raw HTTP for what a hostile client sends, and Chromium for
// the sign-in a person goes through. Screenshots: test-output/auth-*.png.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../coordinator/src/server.ts';
import { DASHBOARD_DIR, ensureDashboardBuilt, startDashboard, type RunningDashboard } from '../build.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const OUT = path.join(REPO_ROOT, 'test-output');
const TOKEN = 'dashboard-test-token-5b1f0c2e9a7d';
const SPEC = `name: auth-test
dataset: { name: ptb, vocabSize: 300 }
model: { embedding: 8, hidden: 8, layers: 1 }
budget: { maxSteps: 2, evalTokens: 200 }
`;

let coordinator: Awaited<ReturnType<typeof startCoordinator>> | undefined;
let tokenless: Awaited<ReturnType<typeof startCoordinator>> | undefined;
let guarded: RunningDashboard | undefined;
let open: RunningDashboard | undefined;
let browser: Browser | undefined;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: () => unknown;
}

interface RequestOptions {
  headers?: Record<string, string>;
  body?: string;
  /** Send the body in 64 KiB chunks with no Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean;
  /** Resolve at the response's head and hang up (an event stream never ends). */
  headOnly?: boolean;
}

/** One HTTP request as a client writes it: any Host, Origin, Cookie or body framing it likes. */
function request(base: string, method: string, pathname: string, opts: RequestOptions = {}): Promise<Reply> {
  const u = new URL(pathname, base);
  const length = opts.body !== undefined && !opts.chunked ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {};
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, headers: { ...length, ...opts.headers } }, (res) => {
      let text = '';
      const reply = () => ({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      if (opts.headOnly) {
        resolve(reply());
        req.destroy();
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(reply()));
    });
    req.on('error', reject);
    if (!opts.chunked || opts.body === undefined) {
      req.end(opts.body);
      return;
    }
    const bytes = Buffer.from(opts.body);
    const send = async () => {
      for (let at = 0; at < bytes.length; at += 65_536) {
        if (!req.write(bytes.subarray(at, at + 65_536))) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    };
    send().catch(reject);
  });
}

const launch = (base: string, headers: Record<string, string>) => request(base, 'POST', '/trpc/sweeps.create', { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ spec: SPEC }) });
const sweepCount = async () => (await coordinator!.store.listSweeps({ limit: 500, offset: 0 })).total;

/** Signs in through the form route as a browser would post it; returns the session cookie ("name=value"). */
async function signIn(base: string, token: string): Promise<{ reply: Reply; cookie: string | null }> {
  const origin = new URL(base).origin;
  const reply = await request(base, 'POST', '/auth/sign-in', {
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
  const set = ([] as string[]).concat(reply.headers['set-cookie'] ?? []);
  const cookie = set.map((c) => c.split(';')[0]!).find((c) => c.startsWith('lmsweep_session=') && c.length > 'lmsweep_session='.length) ?? null;
  return { reply, cookie };
}

beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  await ensureDashboardBuilt();
  coordinator = await startCoordinator({ port: 0, databaseUrl: 'memory://', apiToken: TOKEN });
  guarded = await startDashboard({ port: 0, coordinatorUrl: coordinator.url, apiToken: TOKEN, allowedHosts: ['dash.test'] });
  tokenless = await startCoordinator({ port: 0, databaseUrl: 'memory://' });
  open = await startDashboard({ port: 0, coordinatorUrl: tokenless.url });
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await guarded?.close().catch(() => {});
  await open?.close().catch(() => {});
  await coordinator?.close().catch(() => {});
  await tokenless?.close().catch(() => {});
});

describe('a dashboard with an API token', () => {
  it('forwards reads for anyone, and no anonymous write: not even with a token the browser sends itself', { timeout: 60_000 }, async () => {
    const base = guarded!.url;
    const origin = new URL(base).origin;
    expect((await request(base, 'GET', '/trpc/sweeps.list')).status).toBe(200);
    // A query sent as POST (the dashboard's own client does this) is still a read.
    const validate = await request(base, 'POST', '/trpc/sweeps.validate', { headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ spec: SPEC }) });
    expect(validate.status).toBe(200);
    expect(validate.json()).toMatchObject({ result: { data: { ok: true, trials: 1 } } });

    const before = await sweepCount();
    const anonymous: Record<string, string>[] = [{}, { origin }, { origin, authorization: `Bearer ${TOKEN}` }, { origin, cookie: 'lmsweep_session=v1.zzzzzzzz.AAAAAAAAAAAAAAAAAAAAAA.forged' }];
    for (const headers of anonymous) {
      const r = await launch(base, headers);
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.json()).toMatchObject({ error: { data: { code: 'UNAUTHORIZED', lmsweepCode: 'SIGN_IN_REQUIRED' } } });
    }
    // A batch that hides a write among reads, as tRPC's batch link sends it: one refusal per call.
    const batch = await request(base, 'POST', '/trpc/sweeps.list,sweeps.create?batch=1', { headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ 1: { spec: SPEC } }) });
    expect(batch.status).toBe(401);
    expect(batch.json()).toHaveLength(2);
    const cancel = await request(base, 'POST', '/trpc/sweeps.cancel', { headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ id: 's_x' }) });
    expect(cancel.status).toBe(401);
    // A name the dashboard does not know counts as a write.
    expect((await request(base, 'POST', '/trpc/sweeps.delete', { headers: { 'content-type': 'application/json', origin }, body: '{}' })).status).toBe(401);
    expect(await sweepCount()).toBe(before);
  });

  it('signs in with the token (a cookie that is not the token), forwards a signed-in write, refuses a forged Origin, signs out', { timeout: 60_000 }, async () => {
    const base = guarded!.url;
    const origin = new URL(base).origin;
    const wrong = await signIn(base, 'not-the-token');
    expect(wrong.reply.status).toBe(303);
    expect(wrong.reply.headers.location).toBe('/sign-in?error=wrong&next=%2F');
    expect(wrong.cookie).toBeNull();

    const { reply, cookie } = await signIn(base, TOKEN);
    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe('/');
    expect(cookie).not.toBeNull();
    const set = ([] as string[]).concat(reply.headers['set-cookie'] ?? []).join('\n');
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Max-Age=43200/);
    expect(set).not.toContain(TOKEN);
    expect(await request(base, 'GET', '/auth/session', { headers: { cookie: cookie! } }).then((r) => r.json())).toMatchObject({ required: true, signedIn: true });

    const before = await sweepCount();
    const ok = await launch(base, { origin, cookie: cookie! });
    expect(ok.status, ok.text).toBe(200);
    const id = (ok.json() as { result: { data: { id: string } } }).result.data.id;
    expect(await sweepCount()).toBe(before + 1);
    expect((await coordinator!.store.getSweep(id))?.name).toBe('auth-test');

    // The cookie goes with any request the browser makes here; only the dashboard's own pages may use it.
    const forgeries: Record<string, string>[] = [{ origin: 'http://evil.example' }, { origin: 'null' }, { origin: origin.replace(/:\d+$/, ':1') }, { 'sec-fetch-site': 'cross-site' }, {}];
    for (const forged of forgeries) {
      const r = await launch(base, { ...forged, cookie: cookie! });
      expect(r.status, JSON.stringify(forged)).toBe(403);
      expect(r.json()).toMatchObject({ error: { data: { lmsweepCode: 'FOREIGN_ORIGIN' } } });
    }
    // Nor may another site sign a visitor in.
    const csrf = await request(base, 'POST', '/auth/sign-in', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' }, body: `token=${TOKEN}` });
    expect(csrf.status).toBe(403);
    expect(csrf.headers['set-cookie']).toBeUndefined();
    expect(await sweepCount()).toBe(before + 1);

    const cancelled = await request(base, 'POST', '/trpc/sweeps.cancel', { headers: { 'content-type': 'application/json', origin, cookie: cookie! }, body: JSON.stringify({ id }) });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect((await coordinator!.store.getSweep(id))?.status).toBe('cancelled');

    const out = await request(base, 'POST', '/auth/sign-out', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin, cookie: cookie! }, body: 'next=%2F' });
    expect(out.status).toBe(303);
    expect(([] as string[]).concat(out.headers['set-cookie'] ?? []).join('\n')).toMatch(/lmsweep_session=;.*Max-Age=0/);
    // A kept copy of the cookie is dead too.
    expect((await launch(base, { origin, cookie: cookie! })).status).toBe(401);
  });

  it('answers only to its own names: a foreign Host is refused, pages and API alike', { timeout: 60_000 }, async () => {
    const base = guarded!.url;
    const port = new URL(base).port;
    for (const p of ['/', '/trpc/sweeps.list', '/sign-in', '/icon.svg']) {
      const r = await request(base, 'GET', p, { headers: { host: `evil.example:${port}` } });
      expect(r.status, p).toBe(403);
      expect(r.text).toMatch(/not this dashboard's/);
      expect((await request(base, 'GET', p, { headers: { host: `dash.test:${port}` } })).status, p).toBe(200);
      expect((await request(base, 'GET', p, { headers: { host: `localhost:${port}` } })).status, p).toBe(200);
    }
    // A signed-in write under a foreign name (DNS rebinding) is refused before anything else.
    const { cookie } = await signIn(base, TOKEN);
    const r = await launch(base, { host: `evil.example:${port}`, origin: `http://evil.example:${port}`, cookie: cookie! });
    expect(r.status).toBe(403);
    // And it will not serve a network without the token.
    await expect(startDashboard({ port: 0, coordinatorUrl: coordinator!.url, hostname: '0.0.0.0' })).rejects.toThrow(/refusing to serve the dashboard on 0\.0\.0\.0 without an API token/);
  });

  it('a person signs in on the sign-in page and launches from the form', { timeout: 120_000 }, async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${guarded!.url}/`);
    // Signed out: the spec is still checked as you type, but the form asks for sign-in.
    await page.getByTestId('trial-count').waitFor({ timeout: 15_000 });
    await page.getByTestId('sign-in-to-launch').waitFor();
    expect(await page.getByTestId('launch').count()).toBe(0);
    await page.getByTestId('sign-in-link').waitFor();
    await page.screenshot({ path: path.join(OUT, 'auth-launch-signed-out.png') });

    await page.getByTestId('sign-in-to-launch').click();
    await page.waitForURL((u) => u.pathname === '/sign-in');
    await page.getByTestId('stream-state').filter({ hasText: /^live$/ }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(OUT, 'auth-sign-in.png') });
    await page.getByTestId('token-input').fill('wrong-token');
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('sign-in-error').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(OUT, 'auth-sign-in-wrong.png') });
    await page.getByTestId('token-input').fill(TOKEN);
    await page.getByTestId('sign-in-submit').click();
    await page.waitForURL((u) => u.pathname === '/', { timeout: 15_000 });
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'lmsweep_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(session!.value).not.toContain(TOKEN);
    expect(await page.evaluate(() => document.cookie)).not.toContain('lmsweep_session');

    await page.getByTestId('spec-editor').fill(SPEC.replace('auth-test', 'auth-browser'));
    await page.getByTestId('trial-count').filter({ hasText: '1 trial' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('sign-out').waitFor();
    await page.screenshot({ path: path.join(OUT, 'auth-launch-signed-in.png') });
    await page.getByTestId('launch').click();
    await page.waitForURL(/\/sweeps\/[^/?#]+$/, { timeout: 15_000 });
    await page.getByRole('heading', { name: /auth-browser/ }).waitFor();
    // The sweep is running (no worker): a signed-in person may cancel it, and add seeds to it.
    await page.getByTestId('cancel-sweep').waitFor();
    await page.getByTestId('extend-seeds').fill('2');
    await page.getByTestId('add-seeds').click();
    await page.getByTestId('extend-note').filter({ hasText: 'added 2 trials: 2 more seeds for every configuration (1)' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('sweep-counts').filter({ hasText: '3 trials' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('extensions').filter({ hasText: 'by dashboard' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('trial-row').nth(2).waitFor({ timeout: 15_000 }); // the trials table shows the new seeds (a live change)
    await page.screenshot({ path: path.join(OUT, 'auth-extend.png') });
    const sweepId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect((await coordinator!.store.getSweep(sweepId))!.counts.total).toBe(3);

    await page.getByTestId('sign-out').click();
    await page.getByTestId('sign-in-link').waitFor({ timeout: 15_000 });
    expect((await page.context().cookies()).some((c) => c.name === 'lmsweep_session')).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('a dashboard without an API token (the demo on loopback)', () => {
  it('launches from its own page without sign-in, but not for another site\'s page nor for a client that names no page', { timeout: 60_000 }, async () => {
    const base = open!.url;
    const origin = new URL(base).origin;
    expect((await request(base, 'GET', '/auth/session').then((r) => r.json())) as object).toMatchObject({ required: false });
    const count = async () => (await tokenless!.store.listSweeps({ limit: 10, offset: 0 })).total;
    const before = await count();
    const ok = await launch(base, { origin });
    expect(ok.status, ok.text).toBe(200);
    expect(await count()).toBe(before + 1);
    // A browser sends Origin with every POST: a write without one is no page's (scripts launch at the coordinator).
    const bare = await launch(base, {});
    expect(bare.status, bare.text).toBe(403);
    expect(bare.json()).toMatchObject({ error: { data: { lmsweepCode: 'ORIGIN_REQUIRED' } } });
    const csrf = await launch(base, { origin: 'http://evil.example' });
    expect(csrf.status).toBe(403);
    expect(csrf.json()).toMatchObject({ error: { data: { lmsweepCode: 'FOREIGN_ORIGIN' } } });
    expect(await count()).toBe(before + 1);
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/`);
    await page.getByTestId('launch').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('sign-in-link').count()).toBe(0);
    await page.close();
  });
});

/** A free TCP port on every interface. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '0.0.0.0', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe("another site's page, a guesser, a big body, the network", () => {
  const validateUrl = `/trpc/sweeps.validate?input=${encodeURIComponent(JSON.stringify({ spec: SPEC }))}`;

  it("refuses another site's page every call, reads and event streams included; the dashboard's own pages and scripts still read", { timeout: 60_000 }, async () => {
    for (const d of [guarded!, open!]) {
      const origin = new URL(d.url).origin;
      const port = new URL(d.url).port;
      // A no-cors GET from any page carries no Origin, but the browser says where it comes from.
      const foreign: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: `http://localhost:${Number(port) + 1}` }, { origin: 'null' }];
      for (const headers of foreign) {
        for (const p of [validateUrl, '/trpc/sweeps.list', '/trpc/health']) {
          const r = await request(d.url, 'GET', p, { headers });
          expect(r.status, `${p} ${JSON.stringify(headers)}`).toBe(403);
          expect(r.json()).toMatchObject({ error: { data: { lmsweepCode: 'FOREIGN_ORIGIN' } } });
        }
        // Nor is a live.changes stream held open for it.
        const stream = await request(d.url, 'GET', `/trpc/live.changes?input=${encodeURIComponent('{}')}`, { headers: { accept: 'text/event-stream', ...headers }, headOnly: true });
        expect(stream.status, `live.changes ${JSON.stringify(headers)}`).toBe(403);
        expect(String(stream.headers['content-type'])).not.toMatch(/event-stream/);
      }
      const own: Record<string, string>[] = [{ origin }, { 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, {}];
      for (const headers of own) {
        const r = await request(d.url, 'GET', validateUrl, { headers });
        expect(r.status, JSON.stringify(headers)).toBe(200);
        expect(r.json()).toMatchObject({ result: { data: { ok: true } } });
      }
      const stream = await request(d.url, 'GET', `/trpc/live.changes?input=${encodeURIComponent('{}')}`, { headers: { accept: 'text/event-stream', 'sec-fetch-site': 'same-origin' }, headOnly: true });
      expect(stream.status).toBe(200);
      expect(String(stream.headers['content-type'])).toMatch(/event-stream/);
    }
  });

  it('the right token signs in whatever others guessed; wrong ones are limited per address', { timeout: 60_000 }, async () => {
    const base = guarded!.url;
    const origin = new URL(base).origin;
    const attempt = (token: string, from: string) =>
      request(base, 'POST', '/auth/sign-in', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'x-forwarded-for': from }, body: new URLSearchParams({ token, next: '/' }).toString() });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await attempt(`guess-${i}`, '10.9.0.1')).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(303));
    expect(statuses.slice(10)).toEqual(Array(15).fill(429));
    // The right token, from that very address: signed in.
    const right = await attempt(TOKEN, '10.9.0.1');
    expect(right.status).toBe(303);
    expect(String(right.headers['set-cookie'])).toMatch(/lmsweep_session=v1\./);
    // Another address's wrong guess is only wrong, and its right token signs in too.
    const other = await attempt('guess-x', '10.9.0.2');
    expect([other.status, other.headers.location]).toEqual([303, '/sign-in?error=wrong&next=%2F']);
    expect(String((await attempt(TOKEN, '10.9.0.2')).headers['set-cookie'])).toMatch(/lmsweep_session=v1\./);
  });

  it('counts body bytes as they arrive: a chunked body past the limit is refused, not read whole', { timeout: 60_000 }, async () => {
    const base = guarded!.url;
    const origin = new URL(base).origin;
    // A 2.5 MB spec with no Content-Length: the dashboard refuses it itself (the coordinator never sees it).
    const big = JSON.stringify({ spec: `${SPEC}#${'x'.repeat(2_500_000)}\n` });
    const validate = await request(base, 'POST', '/trpc/sweeps.validate', { headers: { 'content-type': 'application/json', origin }, body: big, chunked: true });
    expect(validate.status).toBe(413);
    expect(validate.json()).toMatchObject({ error: { message: 'the dashboard takes request bodies of at most 2097152 bytes', data: { lmsweepCode: 'PAYLOAD_TOO_LARGE' } } });
    // A sign-in form padded past 8 KB signs no one in, even with the right token; a sign-out form likewise.
    const form = new URLSearchParams({ token: TOKEN, next: '/', pad: 'x'.repeat(100_000) }).toString();
    const signIn = await request(base, 'POST', '/auth/sign-in', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: form, chunked: true });
    expect(signIn.status).toBe(413);
    expect(signIn.headers['set-cookie']).toBeUndefined();
    const signOut = await request(base, 'POST', '/auth/sign-out', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: form, chunked: true });
    expect(signOut.status).toBe(413);
    // Small chunked forms are read as before.
    const small = await request(base, 'POST', '/auth/sign-in', { headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: new URLSearchParams({ token: TOKEN, next: '/' }).toString(), chunked: true });
    expect(small.status).toBe(303);
    expect(String(small.headers['set-cookie'])).toMatch(/lmsweep_session=v1\./);
  });

  it('a tokenless dashboard listening beyond loopback (next start -H 0.0.0.0) launches for no one, whatever Host and Origin say', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', LMSWEEP_URL: tokenless!.url };
    delete env.LMSWEEP_API_TOKEN;
    delete env.LMSWEEP_DASHBOARD_HOSTS;
    const next = path.join(path.dirname(createRequire(import.meta.url).resolve('next/package.json')), 'dist', 'bin', 'next');
    // (startDashboard refuses to do this; a person typing `next start` is not stopped)
    const child = spawn(process.execPath, [next, 'start', DASHBOARD_DIR, '-p', String(port), '-H', '0.0.0.0'], { cwd: REPO_ROOT, env, stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}`;
    try {
      for (const end = Date.now() + 60_000; ; ) {
        const up = await fetch(`${base}/icon.svg`).then((r) => r.ok, () => false);
        if (up) break;
        if (Date.now() > end || child.exitCode !== null) throw new Error('next start did not answer');
        await new Promise((r) => setTimeout(r, 200));
      }
      const before = (await tokenless!.store.listSweeps({ limit: 10, offset: 0 })).total;
      // What a client elsewhere on the network can send: a loopback Host and a matching Origin.
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
        const r = await launch(base, { host, origin: `http://${host}` });
        expect(r.status, r.text).toBe(403);
        expect(r.json()).toMatchObject({ error: { data: { lmsweepCode: 'NETWORK_WITHOUT_TOKEN' } } });
      }
      expect((await tokenless!.store.listSweeps({ limit: 10, offset: 0 })).total).toBe(before);
      // Reads are open by design.
      expect((await request(base, 'GET', '/trpc/sweeps.list', { headers: { host: `localhost:${port}` } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    }
  });
});
