// four-letter-env.ts — the process facts behind envi and mntr's descriptor counts, read from Node.
// envi keeps ZooKeeper's keys and order (kazoo's server_version() parses "zookeeper.version="), and
// puts the Node runtime's values where ZooKeeper reports the JVM's:
//   java.version       Node's version ("20.19.0"); java.vendor says "Node.js" so no one mistakes it
//   java.home          the Node installation prefix (parent of the bin/ holding the node binary)
//   java.class.path    the main script zkts runs from
//   java.library.path  NODE_PATH, or <NA>
//   java.compiler      the JIT: "V8 <version>"
//   os.memory.*        the V8 heap, in MB: free = allocated - used, max = heap limit, total = allocated
//   os.name, os.arch   Java's spellings: Linux, Mac OS X, Windows; amd64, aarch64, x86

import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import v8 from 'node:v8';

const JAVA_OS_NAME: Readonly<Record<string, string>> = { Linux: 'Linux', Darwin: 'Mac OS X', Windows_NT: 'Windows' };
const JAVA_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'aarch64', ia32: 'x86' };
const MB = 1024 * 1024;

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env['USER'] ?? '<NA>';
  }
}

/** envi's entries for this process, ZooKeeper's keys in ZooKeeper's order. */
export function nodeEnvironment(version: string): Array<[key: string, value: string]> {
  const heap = v8.getHeapStatistics();
  return [
    ['zookeeper.version', version],
    ['host.name', os.hostname()],
    ['java.version', process.versions.node],
    ['java.vendor', 'Node.js'],
    ['java.home', dirname(dirname(process.execPath))],
    ['java.class.path', process.argv[1] ?? '<NA>'],
    ['java.library.path', process.env['NODE_PATH'] ?? '<NA>'],
    ['java.io.tmpdir', os.tmpdir()],
    ['java.compiler', `V8 ${process.versions.v8}`],
    ['os.name', JAVA_OS_NAME[os.type()] ?? os.type()],
    ['os.arch', JAVA_ARCH[process.arch] ?? process.arch],
    ['os.version', os.release()],
    ['user.name', userName()],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', `${Math.floor((heap.total_heap_size - heap.used_heap_size) / MB)}MB`],
    ['os.memory.max', `${Math.floor(heap.heap_size_limit / MB)}MB`],
    ['os.memory.total', `${Math.floor(heap.total_heap_size / MB)}MB`],
  ];
}

/**
 * Open descriptors and the soft RLIMIT_NOFILE of this process, as mntr's
 * zk_open_file_descriptor_count / zk_max_file_descriptor_count; -1 where /proc is not available
 * (and max -1 when unlimited, as Java reports it).
 */
export function fileDescriptorCounts(): { open: number; max: number } {
  let open = -1;
  let max = -1;
  try {
    open = readdirSync('/proc/self/fd').length - 1; // minus the descriptor reading the directory
  } catch {
    // not Linux
  }
  try {
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line?.[1] !== undefined && line[1] !== 'unlimited') max = Number(line[1]);
  } catch {
    // not Linux
  }
  return { open, max };
}
