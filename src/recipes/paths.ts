// paths.ts — znode path helpers the recipes share: joining, creating parents, the sequence
// number of a sequential node's name.
import type { ZooKeeper } from '../client/index.js';
import { isZkError } from '../client/index.js';

export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The 10-digit sequence suffix ZooKeeper appends to a sequential node's name; -1 without one. */
export function sequenceOf(name: string): number {
  const m = /(\d{10})$/.exec(name);
  return m === null ? -1 : Number(m[1]);
}

/** Sorts sequential names by their sequence number (names may differ in prefix). */
export function bySequence(names: readonly string[]): string[] {
  return [...names].sort((a, b) => sequenceOf(a) - sequenceOf(b));
}

/** Creates path and its missing ancestors as persistent nodes (empty data); present ones are fine. */
export async function ensurePath(zk: ZooKeeper, path: string): Promise<void> {
  if (path === '/' || path === '') return;
  if ((await zk.exists(path)) !== null) return;
  const parts = path.split('/').filter((p) => p !== '');
  let cur = '';
  for (const p of parts) {
    cur += `/${p}`;
    try {
      await zk.create(cur);
    } catch (e) {
      if (!(isZkError(e) && e.code === 'ZNODEEXISTS')) throw e;
    }
  }
}
