// config-servers.ts — the ensemble part of zoo.cfg: server.N lines, as ZooKeeper's QuorumServer
// reads them, and the checks ZooKeeper makes on the whole list (QuorumPeerConfig.parseDynamicConfig).
//
//   server.N=host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]
//
// An IPv6 host is written in brackets ([::1]:2888:3888). With multiAddress.enabled several
// addresses may be given, separated by '|', all with the same role. The client part, when
// present, gives this server's client port (host 0.0.0.0 when only a port is written).

import { ZktsError } from '../errors.js';
import { javaParseInt, javaSplit } from './config-parse.js';

export type PeerType = 'participant' | 'observer';

export interface HostPort {
  host: string;
  port: number;
}

export interface QuorumAddress {
  host: string;
  /** Followers and observers connect to the leader on this port. */
  quorumPort: number;
  /** Leader election connections use this port. */
  electionPort: number;
}

export interface QuorumServer {
  /** The N of server.N, which is the myid of that server. */
  id: number;
  /** The first (usually only) address. */
  host: string;
  quorumPort: number;
  electionPort: number;
  /** All addresses ('|'-separated, only with multiAddress.enabled); addresses[0] is host/ports above. */
  addresses: QuorumAddress[];
  type: PeerType;
  /** From the ';[clientHost:]clientPort' part; undefined when the line has none. */
  clientAddress?: HostPort;
}

const FORM =
  'host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort] ' +
  '(an IPv6 host in brackets, e.g. [::1]:2888:3888)';

const fail = (where: string, message: string): never => {
  throw new ZktsError('ZKTS_ERR_CONFIG', `${where}${message}`);
};

/** The id of a server.N key: a non-negative integer. */
export function parseServerId(key: string, where: string): number {
  const text = key.slice(key.indexOf('.') + 1);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    fail(where, `${key}: "${text}" is not a server id (a whole number from 0 to 2^53-1, the server's myid)`);
  }
  return Number(text);
}

/** One server.N value. multiAddress: whether '|'-separated addresses are allowed. */
export function parseServerLine(id: number, value: string, multiAddress: boolean, where: string): QuorumServer {
  const key = `server.${id}`;
  const bad = (why: string): never => fail(where, `${key}: "${value}" ${why}`);
  const parts = javaSplit(value, ';');
  if (parts.length > 2) bad(`has more than one ';'; the form is ${FORM}`);

  let clientAddress: HostPort | undefined;
  if (parts.length === 2) {
    const client = hostAndPort(parts[1].trim(), bad);
    if (client.length > 2) bad(`has a client part "${parts[1]}" that is not [clientHost:]clientPort`);
    const port = parsePort(client[client.length - 1], 0);
    if (port === undefined) bad(`has a client port "${client[client.length - 1]}" that is not a port number (0-65535)`);
    clientAddress = { host: client.length === 2 ? client[0] : '0.0.0.0', port: port! };
  }

  const alternatives = parts[0].split('|');
  if (alternatives.length > 1 && !multiAddress) {
    bad('lists several addresses separated by "|", which needs multiAddress.enabled=true');
  }
  const addresses: QuorumAddress[] = [];
  let type: PeerType | undefined;
  for (const alternative of alternatives) {
    const p = hostAndPort(alternative.trim(), bad);
    if (p.length < 3 || p.length > 4) bad(`does not have the form ${FORM}`);
    const [host, quorumText, electionText] = p;
    if (host === '') bad('has no host name');
    const quorumPort = parsePort(quorumText, 1);
    if (quorumPort === undefined) bad(`has a quorum port "${quorumText}" that is not a port number (1-65535)`);
    const electionPort = parsePort(electionText, 1);
    if (electionPort === undefined) bad(`has an election port "${electionText}" that is not a port number (1-65535)`);
    if (quorumPort === electionPort) bad(`uses port ${quorumPort} for both quorum and election; they must differ`);
    if (p.length === 4) {
      const role = p[3].trim().toLowerCase();
      if (role !== 'participant' && role !== 'observer') bad(`has role "${p[3]}"; the role is participant or observer`);
      if (type !== undefined && type !== role) bad('gives its addresses different roles; they must all be the same');
      type = role as PeerType;
    }
    addresses.push({ host, quorumPort: quorumPort!, electionPort: electionPort! });
  }
  const first = addresses[0];
  return {
    id,
    host: first.host,
    quorumPort: first.quorumPort,
    electionPort: first.electionPort,
    addresses,
    type: type ?? 'participant',
    ...(clientAddress === undefined ? {} : { clientAddress }),
  };
}

/** ZooKeeper's ConfigUtils.getHostAndPort: "[v6]:a:b" → [v6, a, b]; otherwise split on ':'. */
function hostAndPort(s: string, bad: (why: string) => never): string[] {
  if (!s.startsWith('[')) return javaSplit(s, ':');
  const close = s.indexOf(']');
  if (close < 0) bad(`has "${s}", which starts with '[' but has no matching ']'`);
  if (close + 1 === s.length) return [s.slice(1, close)];
  if (s[close + 1] !== ':' || close + 2 === s.length) bad(`has "${s}", which needs ':' and a port after ']'`);
  return [s.slice(1, close), ...javaSplit(s.slice(close + 2), ':')];
}

function parsePort(text: string, min: 0 | 1): number | undefined {
  const v = javaParseInt(text.trim());
  return v !== undefined && v >= min && v <= 65535 ? v : undefined;
}

export interface EnsembleShape {
  /** ZooKeeper's isDistributed(): run as an ensemble member rather than standalone. */
  distributed: boolean;
  warnings: string[];
}

/** The checks ZooKeeper makes on the server list as a whole. */
export function checkEnsemble(servers: QuorumServer[], standaloneEnabled: boolean, where: string): EnsembleShape {
  const voters = servers.filter((s) => s.type === 'participant').length;
  const observers = servers.length - voters;
  const warnings: string[] = [];
  if (voters === 0) {
    if (!standaloneEnabled) {
      fail(where, 'standaloneEnabled=false needs at least one participant server.N line');
    }
    if (observers > 0) fail(where, 'observers need participants: every server.N line is an observer');
    return { distributed: false, warnings };
  }
  if (voters === 1 && standaloneEnabled) {
    if (observers > 0) {
      fail(where, 'observers need a quorum: with one participant, set standaloneEnabled=false or add participants');
    }
    warnings.push(
      'only one server.N line: running standalone, as ZooKeeper does (set standaloneEnabled=false to run a one-member ensemble)',
    );
    return { distributed: false, warnings };
  }
  if (voters <= 2) warnings.push('no server failure will be tolerated: an ensemble needs at least 3 participants for that');
  else if (voters % 2 === 0) warnings.push(`${voters} participants: an odd number tolerates as many failures with one server less`);
  return { distributed: true, warnings };
}
