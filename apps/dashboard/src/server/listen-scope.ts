// Which interfaces the dashboard's own server listens on, from the command line that started it
// (`next start … -H 127.0.0.1`): Next.js does not tell a route which interface a request came in
// on, nor reliably from which address (it keeps an `x-forwarded-for` the client sent). A
// dashboard without an API token launches for anyone who reaches it, so it must not be reachable
// from the network. Server-side only.
import { isLoopbackName } from './host-check';

/** 'loopback': this machine only; 'network': another interface, or every one (Next's default without -H); 'unknown': not started by the next CLI (next dev's worker, a custom server). */
export type ListenScope = 'loopback' | 'network' | 'unknown';

/** Where `next start` (or `next dev`) in `argv` was told to listen: its -H / --hostname, or Next's default of every interface. */
export function listenScope(argv: readonly string[] = process.argv): ListenScope {
  if (!/(?:^|[\\/])next(?:\.js)?$/.test(argv[1] ?? '')) return 'unknown';
  const cmd = argv.findIndex((a, i) => i >= 2 && (a === 'start' || a === 'dev'));
  if (cmd < 0) return 'unknown';
  let host: string | undefined;
  for (let i = cmd + 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '-H' || a === '--hostname') host = argv[++i];
    else if (a.startsWith('--hostname=')) host = a.slice('--hostname='.length);
    else if (a.startsWith('-H')) host = a.slice(2);
  }
  if (host === undefined) return 'network';
  return isLoopbackName(host) ? 'loopback' : 'network';
}
