// format.ts — how zkCli prints things: StatPrinter's stat block with Java's Date.toString,
// ZKUtil.getPermString, AclParser's scheme:id:perms lists, and CliWrapperException's messages
// for ZooKeeper's errors. Pure: no I/O.
import { type ACL, type Stat, type ZkError, Perm } from '../client/index.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** java.util.Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy" in the local time zone. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const tz = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${tz} ${d.getFullYear()}`;
}

const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

/** StatPrinter.print */
export function statLines(s: Stat): string[] {
  return [
    `cZxid = ${hex(s.czxid)}`,
    `ctime = ${javaDate(Number(s.ctime))}`,
    `mZxid = ${hex(s.mzxid)}`,
    `mtime = ${javaDate(Number(s.mtime))}`,
    `pZxid = ${hex(s.pzxid)}`,
    `cversion = ${s.cversion}`,
    `dataVersion = ${s.version}`,
    `aclVersion = ${s.aversion}`,
    `ephemeralOwner = ${hex(s.ephemeralOwner)}`,
    `dataLength = ${s.dataLength}`,
    `numChildren = ${s.numChildren}`,
  ];
}

/** Stat as JSON (bigints as decimal strings). */
export function statJson(s: Stat): Record<string, string | number> {
  return {
    czxid: hex(s.czxid), ctime: Number(s.ctime), mzxid: hex(s.mzxid), mtime: Number(s.mtime), pzxid: hex(s.pzxid),
    cversion: s.cversion, dataVersion: s.version, aclVersion: s.aversion, ephemeralOwner: hex(s.ephemeralOwner),
    dataLength: s.dataLength, numChildren: s.numChildren,
  };
}

/** ZKUtil.getPermString: c d r w a, in that order. */
export function permString(perms: number): string {
  let p = '';
  if (perms & Perm.CREATE) p += 'c';
  if (perms & Perm.DELETE) p += 'd';
  if (perms & Perm.READ) p += 'r';
  if (perms & Perm.WRITE) p += 'w';
  if (perms & Perm.ADMIN) p += 'a';
  return p;
}

/** GetAclCommand: "'scheme,'id" (Id.toString) then ": perms". */
export function aclLines(acl: readonly ACL[]): string[] {
  return acl.map((a) => `'${a.id.scheme},'${a.id.id}\n: ${permString(a.perms)}`);
}

const PERM_OF: Record<string, number> = { r: Perm.READ, w: Perm.WRITE, c: Perm.CREATE, d: Perm.DELETE, a: Perm.ADMIN };

/** AclParser.parse: "scheme:id:perms,…"; the id may hold colons. Bad entries are reported and skipped, as there. */
export function parseAcl(text: string, warn: (msg: string) => void): ACL[] {
  const acl: ACL[] = [];
  for (const a of text.split(',')) {
    const first = a.indexOf(':');
    const last = a.lastIndexOf(':');
    if (first === -1 || last === -1 || first === last) {
      warn(`${a} does not have the form scheme:id:perm`);
      continue;
    }
    let perms = 0;
    for (const ch of a.substring(last + 1)) {
      const p = PERM_OF[ch];
      if (p === undefined) warn(`Unknown perm type: ${ch}`);
      else perms |= p;
    }
    acl.push({ perms, id: { scheme: a.substring(0, first), id: a.substring(first + 1, last) } });
  }
  return acl;
}

/** CliWrapperException.getMessage for a ZooKeeper error. */
export function zkErrorMessage(e: ZkError): string {
  const p = e.path ?? '';
  switch (e.code) {
    case 'ZNONODE': return `Node does not exist: ${p}`;
    case 'ZNOCHILDRENFOREPHEMERALS': return `Ephemerals cannot have children: ${p}`;
    case 'ZNODEEXISTS': return `Node already exists: ${p}`;
    case 'ZNOTEMPTY': return `Node not empty: ${p}`;
    case 'ZNOTREADONLY': return `Not a read-only call: ${p}`;
    case 'ZINVALIDACL': return `Acl is not valid : ${p}`;
    case 'ZNOAUTH': return `Insufficient permission : ${p}`;
    case 'ZBADARGUMENTS': return e.path === undefined ? e.message : `Arguments are not valid : ${p}`;
    case 'ZBADVERSION': return `version No is not valid : ${p}`;
    case 'ZRECONFIGINPROGRESS': return 'Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)';
    case 'ZNEWCONFIGNOQUORUM':
      return 'No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced';
    case 'ZQUOTAEXCEEDED': return `Quota has exceeded : ${p}`;
    default: {
      const words = JAVA_CODE_MESSAGES[e.code];
      if (words === undefined || !e.message.startsWith('KeeperErrorCode = ')) return e.message;
      return `KeeperErrorCode = ${words}${e.path === undefined ? '' : ` for ${e.path}`}`;
    }
  }
}

/** KeeperException.getCodeMessage where its words are not the code's name. */
const JAVA_CODE_MESSAGES: Partial<Record<string, string>> = {
  ZNOTEMPTY: 'Directory not empty',
  ZSESSIONEXPIRED: 'Session expired',
  ZINVALIDCALLBACK: 'Invalid callback',
  ZSESSIONMOVED: 'Session moved',
  ZNOTREADONLY: 'Not a read-only call',
  ZEPHEMERALONLOCALSESSION: 'Ephemeral node on local session',
  ZNOWATCHER: 'No such watcher',
  ZRECONFIGDISABLED: 'Reconfig is disabled',
  ZSESSIONCLOSEDREQUIRESASLAUTH: 'Session closed because client failed to authenticate',
  ZQUOTAEXCEEDED: 'Quota has exceeded',
  ZTHROTTLEDOP: 'Op throttled due to high load',
  ZREQUESTTIMEOUT: 'Request timeout',
};
