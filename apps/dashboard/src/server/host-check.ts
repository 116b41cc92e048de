// Is a request addressed to this dashboard, and does it come from this dashboard's own pages?
// `Host` guards against DNS rebinding (a web page whose name now points at 127.0.0.1 reads and
// drives a loopback dashboard); `Origin` guards writes against cross-site requests.

/** Lower-cased host name and port of a Host header value ("[::1]:3000" → ["::1", "3000"]), or null when malformed. */
export function parseHost(value: string): { name: string; port: string | null } | null {
  const v = value.trim().toLowerCase();
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/.exec(v);
  if (!m) return null;
  const name = m[1] ?? m[2]!;
  if (!name || name.startsWith('.') || name.endsWith('.') || name.includes('..')) return null;
  return { name, port: m[3] ?? null };
}

/** localhost (and *.localhost, which browsers resolve to loopback themselves), 127.0.0.0/8 and ::1. */
export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || /^127(?:\.\d{1,3}){3}$/.test(name) || name === '::1' || name === '0:0:0:0:0:0:0:1';
}

/**
 * Entries of LMSWEEP_DASHBOARD_HOSTS: comma-separated names, each with or without a port
 * ("dash.example.org, 10.0.0.5:3000"). Throws naming the entry that is not a host.
 */
export function parseAllowedHosts(list: string | undefined): string[] {
  if (!list) return [];
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const h = parseHost(entry);
      if (!h) throw new Error(`LMSWEEP_DASHBOARD_HOSTS: "${entry}" is not a host name or address (with an optional :port)`);
      return h.port ? `${h.name}:${h.port}` : h.name;
    });
}

/** Whether a Host header names this dashboard: a loopback name (any port) or an allowed entry (a name alone allows any port). */
export function hostAllowed(hostHeader: string | null, allowed: readonly string[]): boolean {
  if (!hostHeader) return false;
  const h = parseHost(hostHeader);
  if (!h) return false;
  if (isLoopbackName(h.name)) return true;
  return allowed.includes(h.name) || (h.port !== null && allowed.includes(`${h.name}:${h.port}`));
}

/**
 * Where a request comes from, as the browser tells: 'same' when its Origin (or, without one,
 * Sec-Fetch-Site) says this dashboard's own pages, 'foreign' when another site (or an opaque
 * "null" origin), 'unknown' when it says nothing (not a browser: curl, a script).
 */
export function requestOrigin(headers: Headers): 'same' | 'foreign' | 'unknown' {
  const origin = headers.get('origin');
  const host = headers.get('host');
  if (origin !== null) {
    if (!host) return 'foreign';
    try {
      const u = new URL(origin);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'foreign';
      // URL drops a default port; a Host header may carry it.
      const defaultPort = u.protocol === 'https:' ? ':443' : ':80';
      const h = host.trim().toLowerCase();
      return u.host === (h.endsWith(defaultPort) ? h.slice(0, -defaultPort.length) : h) ? 'same' : 'foreign';
    } catch {
      return 'foreign';
    }
  }
  const site = headers.get('sec-fetch-site');
  if (site === null) return 'unknown';
  return site === 'same-origin' ? 'same' : 'foreign';
}
