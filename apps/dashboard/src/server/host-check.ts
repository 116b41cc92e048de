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

/**
 * Whether a host name or address (a Host header's name, or the interface the dashboard binds)
 * stands for this machine alone: `localhost` and every name under it (`dash.localhost`: RFC 6761
 * §6.3 reserves them for loopback, and browsers resolve them so themselves), an IPv4 address in
 * 127.0.0.0/8, and ::1 or an IPv4-mapped 127 address however IPv6 spells them; brackets and case
 * do not matter. Nothing else (0.0.0.0 and :: are every interface).
 */
export function isLoopbackName(name: string): boolean {
  const n = name.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (n === 'localhost' || n.endsWith('.localhost')) return parseHost(n) !== null;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(n);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255 && (o === '0' || !o.startsWith('0'))) && v4[1] === '127';
  if (!n.includes(':') || !/^[0-9a-f:.]+$/.test(n)) return false;
  let canonical: string;
  try {
    canonical = new URL(`http://[${n}]/`).hostname.slice(1, -1);
  } catch {
    return false;
  }
  return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
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
 * Where a request comes from, as the browser tells: 'foreign' when Sec-Fetch-Site says another
 * site (`cross-site`, or `same-site`: another port or name of this host) or its Origin names
 * another origin (or an opaque "null" one); 'same' when its Origin (or, without one,
 * Sec-Fetch-Site) says this dashboard's own pages; 'unknown' when it says nothing (not a browser:
 * curl, a script) or that a person asked for it (Sec-Fetch-Site `none`: typed in the address bar).
 */
export function requestOrigin(headers: Headers): 'same' | 'foreign' | 'unknown' {
  const origin = headers.get('origin');
  const host = headers.get('host');
  const site = headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') return 'foreign';
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
  return site === 'same-origin' ? 'same' : 'unknown';
}
