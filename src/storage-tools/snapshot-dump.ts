// snapshot-dump.ts — `zkts snapshot dump`: a snapshot file as text, line for line what ZooKeeper's
// SnapshotFormatter prints (nodes depth-first from "/", children in the order a Java HashSet
// built from the file yields them, sessions in HashMap order, the node count with the root
// counted twice as DataTree does), as SnapshotFormatter -json prints it (ncdu's format), or as
// zkts's own JSON document with everything the file holds. Output is produced as string chunks
// so a large snapshot streams.
import { javaDateString, javaHashOrder, javaHex016, javaLongHash, javaStringHash, jacksonQuote } from './java-text.js';
import type { SnapshotImage, SnapshotNodeRecord } from './snapshot-file.js';

interface TreeIndex {
  byPath: Map<string, SnapshotNodeRecord>;
  /** Child names of each path ("/" for the root), in Java HashSet order. */
  children: Map<string, string[]>;
}

/** DataTree.deserialize's linking, with DataNode's HashSet<String>(8) of children. */
function indexTree(img: SnapshotImage): TreeIndex {
  const byPath = new Map<string, SnapshotNodeRecord>();
  const inserted = new Map<string, Set<string>>(); // insertion-ordered, as the file has them
  for (const n of img.nodes) {
    const path = n.path === '' ? '/' : n.path;
    byPath.set(path, n);
    const slash = n.path.lastIndexOf('/');
    if (slash === -1) continue;
    const parent = slash === 0 ? '/' : n.path.slice(0, slash);
    if (!byPath.has(parent)) continue; // DataTree refuses such a file; here the node is not reachable
    let names = inserted.get(parent);
    if (names === undefined) inserted.set(parent, (names = new Set()));
    names.add(n.path.slice(slash + 1));
  }
  const children = new Map<string, string[]>();
  for (const [p, names] of inserted) children.set(p, javaHashOrder([...names], javaStringHash, 8));
  return { byPath, children };
}

function childPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

/** Util.getZxidFromName(name, "snapshot"): -1 when the name holds none. */
export function zxidFromSnapshotName(base: string): bigint {
  const parts = base.split('.');
  if (parts.length < 2 || parts[0] !== 'snapshot' || !/^[0-9a-fA-F]{1,16}$/.test(parts[1]!)) return -1n;
  const v = BigInt('0x' + parts[1]);
  return v > 0x7fffffffffffffffn ? -1n : v; // Long.parseLong(s, 16) overflows past the signed range
}

export interface SnapshotTextOptions {
  /** -d: print each node's data (base64) instead of its length. */
  data: boolean;
  /** The file's base name, for the zxid in it. */
  fileName: string;
}

/** SnapshotFormatter [-d]: the whole text. */
export function* snapshotText(img: SnapshotImage, opts: SnapshotTextOptions): Generator<string> {
  const tree = indexTree(img);
  yield `ZNode Details (count=${tree.byPath.size + (tree.byPath.has('/') ? 1 : 0)}):\n`;
  let maxZxid = 0n;
  // Depth-first as printZnode's recursion, with an explicit stack.
  const stack: string[] = tree.byPath.has('/') ? ['/'] : [];
  let lines: string[] = [];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const n = tree.byPath.get(path)!;
    lines.push(
      '----',
      path,
      `  cZxid = ${javaHex016(n.czxid)}`,
      `  ctime = ${javaDateString(n.ctime)}`,
      `  mZxid = ${javaHex016(n.mzxid)}`,
      `  mtime = ${javaDateString(n.mtime)}`,
      `  pZxid = ${javaHex016(n.pzxid)}`,
      `  cversion = ${n.cversion}`,
      `  dataVersion = ${n.version}`,
      `  aclVersion = ${n.aversion}`,
      `  ephemeralOwner = ${javaHex016(n.ephemeralOwner)}`,
      opts.data ? `  data = ${n.data === null ? '' : n.data.toString('base64')}` : `  dataLength = ${n.data === null ? 0 : n.data.length}`,
    );
    for (const z of [n.mzxid, n.pzxid]) if (z > maxZxid) maxZxid = z;
    const kids = tree.children.get(path) ?? [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push(childPath(path, kids[i]!));
    if (lines.length >= 4096) {
      yield lines.join('\n') + '\n';
      lines = [];
    }
  }
  lines.push('----', 'Session Details (sid, timeout, ephemeralCount):');
  const ephemerals = new Map<bigint, number>();
  for (const n of tree.byPath.values()) {
    if (n.ephemeralOwner !== 0n) ephemerals.set(n.ephemeralOwner, (ephemerals.get(n.ephemeralOwner) ?? 0) + 1);
  }
  const sessions = new Map(img.sessions);
  for (const sid of javaHashOrder([...sessions.keys()], javaLongHash, 16)) {
    lines.push(`${javaHex016(sid)}, ${sessions.get(sid)}, ${ephemerals.get(sid) ?? 0}`);
  }
  const fileZxid = zxidFromSnapshotName(opts.fileName);
  lines.push('----', `Last zxid: 0x${BigInt.asUintN(64, fileZxid > maxZxid ? fileZxid : maxZxid).toString(16)}`);
  yield lines.join('\n') + '\n';
}

/** SnapshotFormatter -json: ncdu's export format, one "file" per znode sized by its data. */
export function* snapshotNcdu(img: SnapshotImage, timestampMs: number): Generator<string> {
  const tree = indexTree(img);
  yield `[1,0,{"progname":"SnapshotFormatter.java","progver":"0.01","timestamp":${timestampMs}}`;
  let ino = 1000;
  // Each frame is a node still to print, or a "]" closing a directory.
  const stack: (string | null)[] = tree.byPath.has('/') ? ['/'] : [];
  let out = '';
  while (stack.length > 0) {
    const path = stack.pop()!;
    if (path === null) {
      out += ']';
      continue;
    }
    const n = tree.byPath.get(path)!;
    const name = path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1);
    const len = n.data === null ? 0 : n.data.length;
    const rec = `{"name":"${jacksonQuote(name)}","asize":${len},"dsize":${len},"dev":0,"ino":${++ino}}`;
    const kids = (tree.children.get(path) ?? []).map((k) => childPath(path, k));
    if (kids.length === 0) {
      out += ',' + rec;
    } else {
      out += ',[' + rec;
      stack.push(null);
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
    }
    if (out.length > 1 << 16) {
      yield out;
      out = '';
    }
  }
  yield out + ']';
}

const hexZxid = (v: bigint): string => '0x' + BigInt.asUintN(64, v).toString(16);

/** zkts's JSON: every section of the file, 64-bit values as strings, data as base64. */
export function* snapshotJson(img: SnapshotImage, file: string): Generator<string> {
  const ephemerals = new Map<bigint, number>();
  for (const n of img.nodes) if (n.ephemeralOwner !== 0n) ephemerals.set(n.ephemeralOwner, (ephemerals.get(n.ephemeralOwner) ?? 0) + 1);
  let maxZxid = zxidFromSnapshotName(file.slice(file.lastIndexOf('/') + 1));
  for (const n of img.nodes) for (const z of [n.mzxid, n.pzxid]) if (z > maxZxid) maxZxid = z;
  const head = {
    file,
    magic: '0x' + (img.magic >>> 0).toString(16),
    version: img.version,
    dbid: img.dbid.toString(),
    nodeCount: img.nodes.length,
  };
  const sessions = img.sessions.map(([id, timeoutMs]) => JSON.stringify({ id: hexZxid(id), timeoutMs, ephemerals: ephemerals.get(id) ?? 0 }));
  const acls = img.acls.map(([id, acl]) => JSON.stringify({ id: id.toString(), acl }));
  yield JSON.stringify(head, null, 1).replace(/\n}$/, ',\n');
  yield ` "sessions": [${sessions.map((x) => '\n  ' + x).join(',')}\n ],\n`;
  yield ` "acls": [${acls.map((x) => '\n  ' + x).join(',')}\n ],\n`;
  yield ' "nodes": [';
  let out = '';
  for (let i = 0; i < img.nodes.length; i++) {
    const n = img.nodes[i]!;
    const rec = {
      path: n.path === '' ? '/' : n.path,
      data: n.data === null ? null : n.data.toString('base64'),
      dataLength: n.data === null ? 0 : n.data.length,
      aclId: n.aclId.toString(),
      czxid: hexZxid(n.czxid),
      mzxid: hexZxid(n.mzxid),
      pzxid: hexZxid(n.pzxid),
      ctime: Number(n.ctime),
      mtime: Number(n.mtime),
      version: n.version,
      cversion: n.cversion,
      aversion: n.aversion,
      ephemeralOwner: hexZxid(n.ephemeralOwner),
    };
    out += (i === 0 ? '\n  ' : ',\n  ') + JSON.stringify(rec);
    if (out.length > 1 << 16) {
      yield out;
      out = '';
    }
  }
  yield out + '\n ],\n';
  const seals = img.seals.map((x) => JSON.stringify({ offset: x.offset, stored: x.stored.toString(), computed: x.computed, ok: x.ok }));
  const digest = img.digest === null ? null : { zxid: hexZxid(img.digest.zxid), version: img.digest.version, digest: img.digest.digest.toString() };
  yield ` "seals": [${seals.map((x) => '\n  ' + x).join(',')}\n ],\n`;
  yield ` "digest": ${JSON.stringify(digest)},\n`;
  yield ` "lastProcessedZxid": ${JSON.stringify(img.lastProcessedZxid === null ? null : hexZxid(img.lastProcessedZxid))},\n`;
  yield ` "lastZxid": "${hexZxid(maxZxid)}",\n "problem": ${JSON.stringify(img.problem)}\n}\n`;
}
