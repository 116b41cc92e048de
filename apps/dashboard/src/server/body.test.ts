import { describe, expect, it } from 'vitest';
import { parseForm, readBody } from './body';

/** A streamed request body of these chunks, with no Content-Length (as a chunked upload arrives); counts the chunks pulled. */
function streamed(chunks: number[], headers: Record<string, string> = {}): { req: Request; pulled: () => number } {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < chunks.length) c.enqueue(new Uint8Array(chunks[i++]!).fill(97));
      else c.close();
    },
  }, { highWaterMark: 0 });
  return { req: new Request('http://127.0.0.1/x', { method: 'POST', body, headers, duplex: 'half' } as RequestInit), pulled: () => i };
}

describe('request bodies under a limit', () => {
  it('counts the bytes as they arrive and stops at the first chunk past the limit', async () => {
    const ok = streamed([400, 600]);
    expect((await readBody(ok.req, 1000))?.byteLength).toBe(1000);
    const big = streamed([600, 600, 600, 600, 600]);
    expect(await readBody(big.req, 1000)).toBeNull();
    expect(big.pulled()).toBeLessThan(5);
  });
  it('refuses a declared length over the limit before reading anything, and does not trust a small one', async () => {
    const declared = streamed([10], { 'content-length': '5000' });
    expect(await readBody(declared.req, 1000)).toBeNull();
    expect(declared.pulled()).toBe(0);
    expect(await readBody(streamed([10], { 'content-length': 'x' }).req, 1000)).toBeNull();
    // (a Content-Length that understates is the HTTP server's to refuse; the count holds regardless)
    expect(await readBody(new Request('http://127.0.0.1/x', { method: 'POST' }), 10)).toEqual(new Uint8Array(0));
  });
  it('reads a form from the bytes', async () => {
    const form = await parseForm(new TextEncoder().encode('token=a%20b&next=%2F'), 'application/x-www-form-urlencoded');
    expect(form?.get('token')).toBe('a b');
    expect(await parseForm(new Uint8Array([1, 2]), 'text/plain')).toBeNull();
  });
});
