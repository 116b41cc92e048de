// Hosts of a test's own: Linux network namespaces joined by veth pairs (ip netns, iproute2), and
// links cut and healed with iptables DROP rules inside them. Needs root; everything it makes is
// named after the test process and deleted by remove().
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Why namespaces cannot be made here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const bin of ['/usr/sbin/ip', '/usr/sbin/iptables']) if (!existsSync(bin)) return `${bin} missing (apt-get install iproute2 iptables)`;
  const probe = `lmsprobe${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns add failed: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

const sh = (args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });

export class Hosts {
  private readonly names: string[] = [];
  private readonly rootLinks: string[] = [];
  constructor(private readonly prefix = `lms${process.pid % 100_000}`) {}

  /** A namespace with its loopback up; its name. */
  add(host: string): string {
    const ns = `${this.prefix}${host}`;
    sh(['ip', 'netns', 'add', ns]);
    this.names.push(ns);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * A veth pair between two namespaces (null: this host's own), `a` and `b` given as
   * "namespace address/prefix".
   */
  link(a: { ns: string | null; addr: string }, b: { ns: string | null; addr: string }): void {
    const n = this.rootLinks.length + this.names.length;
    const [ia, ib] = [`${this.prefix}v${n}a`, `${this.prefix}v${n}b`].map((x) => x.slice(-15));
    sh(['ip', 'link', 'add', ia!, 'type', 'veth', 'peer', 'name', ib!]);
    for (const [iface, end] of [[ia!, a], [ib!, b]] as const) {
      if (end.ns) sh(['ip', 'link', 'set', iface, 'netns', end.ns]);
      else this.rootLinks.push(iface);
      const where = end.ns ? ['-n', end.ns] : [];
      sh(['ip', ...where, 'addr', 'add', end.addr, 'dev', iface]);
      sh(['ip', ...where, 'link', 'set', iface, 'up']);
    }
  }

  /** Runs a command inside a namespace (for spawn: the argv prefix). */
  static exec(ns: string, argv: string[]): string[] {
    return ['ip', 'netns', 'exec', ns, ...argv];
  }

  /** Drops, inside `ns`, every packet from and to `peer` (optionally one TCP port of it). */
  cut(ns: string, peer: string, port?: number): void {
    for (const rule of this.rules(peer, port)) sh(['ip', 'netns', 'exec', ns, 'iptables', '-A', ...rule]);
  }

  /** Removes the rules cut() added. */
  heal(ns: string, peer: string, port?: number): void {
    for (const rule of this.rules(peer, port)) sh(['ip', 'netns', 'exec', ns, 'iptables', '-D', ...rule]);
  }

  private rules(peer: string, port?: number): string[][] {
    const tcp = (dir: 'sport' | 'dport') => (port === undefined ? [] : ['-p', 'tcp', `--${dir}`, String(port)]);
    return [
      ['INPUT', '-s', peer, ...tcp('sport'), '-j', 'DROP'],
      ['OUTPUT', '-d', peer, ...tcp('dport'), '-j', 'DROP'],
    ];
  }

  /** Deletes the namespaces (their ends of the links go with them, and so the pairs). */
  remove(): void {
    for (const ns of this.names) spawnSync('ip', ['netns', 'del', ns]);
    for (const iface of this.rootLinks) spawnSync('ip', ['link', 'del', iface]);
  }
}
