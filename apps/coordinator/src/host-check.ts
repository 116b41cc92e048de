// Which Host (and browser Origin) the coordinator answers. A tokenless coordinator on loopback
// trusts whoever reaches it; DNS rebinding would let any web page reach it under the page's own
// name, and a page can fire requests at 127.0.0.1 directly. So every request (tRPC, artifacts,
// /healthz, the worker websocket) must name this coordinator in Host, and a browser's request must
// come from one of its own origins. The CLI, workers and the dashboard's server send no Origin.
import os from 'node:os';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopback } from './address.ts';

export interface HostPolicyOptions {
  /** The address the coordinator is bound to. */
  bindHost: string;
  /** The port it listens on. */
  port: number;
  /**
   * More names it answers to (a coordinator behind a name or a proxy, an SSH tunnel's port):
   * "name" (any port), "name:port", "[v6]:port"; "*" turns the check off.
   */
  allowedHosts?: readonly string[];
}

/** A Host-like value split into its name (lowercase, no brackets, no trailing dot) and port (null when absent). */
export function parseHostHeader(value: string): { name: string; port: number | null } | null {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]/@\s]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return null;
  const name = m[1]!.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  const port = m[2] === undefined ? null : Number(m[2]);
  if (!name || (port !== null && port > 65_535)) return null;
  return { name, port };
}

/** Checks an allow-list entry at start; returns the problem, or null. */
export function allowedHostIssue(entry: string): string | null {
  if (entry === '*') return null;
  return parseHostHeader(entry) ? null : `"${entry}" is not a host name, address or name:port`;
}

/** This machine's own names (its hostname and short hostname), for a coordinator on a network interface. */
function machineNames(): string[] {
  const h = os.hostname().toLowerCase();
  return [...new Set([h, h.split('.')[0]!])].filter(Boolean);
}

/**
 * The rule, returned as a function of a request's headers giving the reason to refuse (or null):
 * - always: loopback names and addresses (localhost, 127.x.y.z, [::1]) with the coordinator's
 *   port, and the allow-list;
 * - on a network interface as well: any IP address literal (a page cannot rebind one) and this
 *   machine's host name, on any port (port mappings and proxies change it);
 * - an Origin header, when a browser sends one, must pass the same rule, and a browser's
 *   cross-site request (Sec-Fetch-Site: cross-site or same-site) is refused.
 */
export function hostPolicy(opts: HostPolicyOptions): (headers: IncomingHttpHeaders) => string | null {
  const entries = (opts.allowedHosts ?? []).map((e) => e.trim()).filter(Boolean);
  if (entries.includes('*')) return () => null;
  const allowed = entries.map((e) => parseHostHeader(e)).filter((e): e is NonNullable<typeof e> => e !== null);
  const network = !isLoopback(opts.bindHost);
  const names = network ? machineNames() : [];
  const hint = `start the coordinator with --allowed-hosts (LMSWEEP_ALLOWED_HOSTS) naming it`;

  const hostOk = (h: { name: string; port: number | null }) => {
    if (allowed.some((a) => a.name === h.name && (a.port === null || a.port === h.port))) return true;
    if (isLoopback(h.name)) return h.port === opts.port;
    if (network) return isIP(h.name) !== 0 || names.includes(h.name);
    return false;
  };

  return (headers) => {
    const host = headers.host;
    if (typeof host !== 'string' || !host) return 'the request has no Host header';
    const h = parseHostHeader(host);
    if (!h || !hostOk(h)) return `Host "${host.slice(0, 200)}" is not this coordinator's (${opts.bindHost}:${opts.port}); if it is, ${hint}`;
    const site = headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') return `a browser request from another site (Sec-Fetch-Site: ${site}) is not answered`;
    const origin = headers.origin;
    if (typeof origin === 'string') {
      let o: { name: string; port: number | null } | null = null;
      try {
        const u = new URL(origin);
        if (u.protocol === 'http:' || u.protocol === 'https:') o = parseHostHeader(u.port ? `${u.hostname}:${u.port}` : u.hostname);
        if (o && o.port === null) o.port = u.protocol === 'https:' ? 443 : 80;
      } catch {
        o = null;
      }
      if (!o || !hostOk(o)) return `Origin "${origin.slice(0, 200)}" is not this coordinator's; ${hint}`;
    }
    return null;
  };
}
