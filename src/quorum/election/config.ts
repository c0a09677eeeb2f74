// config.ts — the ensemble config text that notifications carry (QuorumVerifier.toString) and
// that ZooKeeper reads back with QuorumPeer.configFromString: Properties lines
//
//   server.N=host:quorumPort:electionPort:participant|observer[;clientHost:clientPort]
//   version=<hex>
//
// joined by '\n', the version line last with no newline after it. A server line is read by the
// same parser as zoo.cfg's server.N (src/server/config-servers.ts, several '|' addresses allowed).
// group.* and weight.* lines (hierarchical quorums) are refused: only majority quorums are
// supported. Other keys are ignored, as QuorumMaj ignores them.

import { ZktsError } from '../../errors.js';
import { parseProperties } from '../../server/config-parse.js';
import { parseServerId, parseServerLine, type QuorumServer } from '../../server/config-servers.js';

export type { QuorumServer } from '../../server/config-servers.js';

export interface QuorumConfig {
  /** Every member, voters and observers, by ascending sid. */
  servers: QuorumServer[];
  /** The config version (0 until a reconfig). */
  version: bigint;
}

export function parseConfigText(text: string): QuorumConfig {
  const servers = new Map<number, QuorumServer>();
  let version = 0n;
  for (const { key, value } of parseProperties(text)) {
    if (key.startsWith('server.')) {
      const id = parseServerId(key, 'config text: ');
      servers.set(id, parseServerLine(id, value, true, 'config text: '));
    } else if (key.startsWith('group') || key.startsWith('weight')) {
      throw new ZktsError('ZKTS_ERR_CONFIG', `config text: ${key}: hierarchical quorums (group/weight) are not supported`);
    } else if (key === 'version') {
      if (!/^[0-9a-fA-F]{1,16}$/.test(value)) throw new ZktsError('ZKTS_ERR_CONFIG', `config text: version "${value}" is not a hex number`);
      version = BigInt.asIntN(64, BigInt(`0x${value}`));
    }
  }
  return { servers: [...servers.values()].sort((a, b) => a.id - b.id), version };
}

/**
 * QuorumMaj.toString: the members by ascending sid (Java iterates a HashMap, which for sids
 * below 16 is the same order), then the version in lower-case hex.
 */
export function formatConfigText(config: QuorumConfig): string {
  const lines = [...config.servers].sort((a, b) => a.id - b.id).map((s) => `server.${s.id}=${formatServer(s)}\n`);
  return `${lines.join('')}version=${BigInt.asUintN(64, config.version).toString(16)}`;
}

/** QuorumServer.toString: the addresses sorted by host, the role, then the client address if any. */
export function formatServer(s: QuorumServer): string {
  const addrs = [...s.addresses].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  const host = (h: string) => (h.includes(':') ? `[${h}]` : h);
  let out = addrs.map((a) => `${host(a.host)}:${a.quorumPort}:${a.electionPort}`).join('|');
  out += `:${s.type}`;
  if (s.clientAddress) out += `;${host(s.clientAddress.host)}:${s.clientAddress.port}`;
  return out;
}

/** The voting members' sids. */
export function votersOf(config: QuorumConfig): Set<number> {
  return new Set(config.servers.filter((s) => s.type === 'participant').map((s) => s.id));
}

/** QuorumMaj.containsQuorum: more than half of the voters are in `acks`. */
export function isQuorum(voters: ReadonlySet<number>, acks: Iterable<number>): boolean {
  let n = 0;
  for (const sid of acks) if (voters.has(sid)) n++;
  return n > Math.floor(voters.size / 2);
}
