// Raw HTTP for tests that set headers fetch() will not (Host) or send what no client would.
import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export function rawRequest(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: opts.method ?? 'GET', headers: { ...(opts.body ? { 'content-type': 'application/json' } : {}), ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A tRPC GET query URL: `/trpc/<path>?input=<json>` (one call, not batched). */
export const queryUrl = (base: string, path: string, input: unknown) => `${base}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;

/** A batched tRPC POST: the same procedure `n` times with the given inputs. */
export function batchBody(inputs: unknown[]): string {
  return JSON.stringify(Object.fromEntries(inputs.map((v, i) => [i, v])));
}
