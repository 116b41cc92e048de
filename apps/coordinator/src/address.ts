// Peer addresses and host names: what counts as this machine (the one loopback rule of the
// coordinator, for its bind address, Host headers and peers alike) and the key sockets and
// requests are counted under per address.
import { isIP } from 'node:net';

/** The eight 16-bit groups of an IPv6 address (with `::` expanded and a dotted IPv4 tail converted). */
function ipv6Groups(addr: string): number[] {
  let a = addr.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const [p, q, r, s] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    a = `${a.slice(0, -v4[1]!.length)}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const [head = '', tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - h.length - t.length }, () => '0');
  return [...h, ...zeros, ...t].map((g) => parseInt(g, 16) || 0);
}

/** `[v6]` → `v6`, a zone (`%eth0`) dropped, lowercase, no trailing dot. */
function bare(hostOrAddress: string): string {
  return hostOrAddress.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '').replace(/\.$/, '').toLowerCase();
}

/**
 * The loopback rule: the name `localhost`, any IPv4 address in 127.0.0.0/8, and the IPv6 loopback
 * ::1 — each however written (case, `[…]` brackets, a zone, `0:0:0:0:0:0:0:1`, and IPv4-mapped
 * `::ffff:127.x.y.z` or `::ffff:7f00:1`). Nothing else: not 0.0.0.0 or ::, not other names that a
 * resolver might map to 127.0.0.1. Used for the address the coordinator binds, the names a Host
 * header may give it, and the peers it exempts from per-address caps.
 */
export function isLoopback(hostOrAddress: string | null | undefined): boolean {
  if (!hostOrAddress) return false;
  const h = bare(hostOrAddress);
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) !== 6) return false;
  const g = ipv6Groups(h);
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true;
  // IPv4-mapped (::ffff:a.b.c.d): loopback when a is 127
  return g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff && g[6]! >> 8 === 127;
}

/**
 * The key sockets are counted under: an IPv4 address (also when written IPv4-mapped, ::ffff:a.b.c.d),
 * or an IPv6 address's /64 (one host may use many addresses of its /64).
 */
export function addressKey(remote: string | null | undefined): string {
  if (!remote) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped) return mapped[1]!;
  if (isIP(remote) !== 6) return remote;
  return `${ipv6Groups(remote).slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
