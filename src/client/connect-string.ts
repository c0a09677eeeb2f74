// connect-string.ts — "host1:port1,host2:port2/chroot" as ZooKeeper's ConnectStringParser reads
// it (default port 2181, "[v6]:port" for IPv6, a chroot of "/" meaning none, the chroot validated
// as a path), and the order in which hosts are tried: shuffled once, then round robin, with a
// pause once every host has been tried since the last successful connection.
import { pathError } from '../protocol/paths.js';
import { badArguments } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectString {
  hosts: HostPort[];
  /** The chroot without a trailing slash, or null. */
  chroot: string | null;
}

export const DEFAULT_PORT = 2181;

export function parseConnectString(s: string): ConnectString {
  if (s.trim() === '') throw badArguments('Connect string cannot be null or empty');
  let serverPart = s;
  let chroot: string | null = null;
  const slash = s.indexOf('/');
  if (slash >= 0) {
    chroot = s.substring(slash);
    serverPart = s.substring(0, slash);
    if (chroot.length === 1) chroot = null;
    else {
      const err = pathError(chroot);
      if (err !== null) throw badArguments(`Invalid chroot: ${err}`, chroot);
    }
  }
  const hosts: HostPort[] = [];
  for (const raw of serverPart.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    hosts.push(parseHostPort(part));
  }
  if (hosts.length === 0) throw badArguments(`No hosts in connect string "${s}"`);
  return { hosts, chroot };
}

function parseHostPort(part: string): HostPort {
  if (part.startsWith('[')) {
    const close = part.indexOf(']');
    if (close < 0) throw badArguments(`Invalid IPv6 address "${part}"`);
    const host = part.substring(1, close);
    const rest = part.substring(close + 1);
    if (rest === '' || rest === ':') return { host, port: DEFAULT_PORT };
    if (!rest.startsWith(':')) throw badArguments(`Invalid host:port "${part}"`);
    return { host, port: parsePort(rest.substring(1), part) };
  }
  const colon = part.lastIndexOf(':');
  if (colon < 0) return { host: part, port: DEFAULT_PORT };
  const host = part.substring(0, colon);
  if (colon === part.length - 1) return { host, port: DEFAULT_PORT };
  return { host, port: parsePort(part.substring(colon + 1), part) };
}

function parsePort(text: string, part: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw badArguments(`Invalid port in "${part}"`);
  return port;
}

/**
 * Hands out hosts to try: a shuffled list, round robin. `next()` reports when a whole round has
 * passed without a successful connection, for the caller to pause before going on.
 */
export class HostList {
  private readonly hosts: HostPort[];
  private index = -1;
  private attempts = 0;

  constructor(hosts: readonly HostPort[], random: () => number = Math.random) {
    this.hosts = [...hosts];
    for (let i = this.hosts.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [this.hosts[i], this.hosts[j]] = [this.hosts[j]!, this.hosts[i]!];
    }
  }

  get size(): number {
    return this.hosts.length;
  }

  /** The next host, and true when a round of attempts since the last connection is over. */
  next(): { host: HostPort; wrapped: boolean } {
    this.index = (this.index + 1) % this.hosts.length;
    const wrapped = this.attempts > 0 && this.attempts % this.hosts.length === 0;
    this.attempts++;
    return { host: this.hosts[this.index]!, wrapped };
  }

  /** The host `next()` handed out last has connected: rounds count from here. */
  onConnected(): void {
    this.attempts = 0;
  }

  /** Tries `host` next (a read-write server found while on a read-only one). */
  preferNext(host: HostPort): void {
    const i = this.hosts.findIndex((h) => h.host === host.host && h.port === host.port);
    if (i >= 0) this.index = (i - 1 + this.hosts.length) % this.hosts.length;
  }

  all(): readonly HostPort[] {
    return this.hosts;
  }
}

export function hostLabel(h: HostPort): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}
