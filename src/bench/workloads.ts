// workloads.ts — what the load generator sends: prebuilt request frames and the small state
// machines that choose between them. Every workload works on its own session's znodes under
// /zkts-bench, which setupFrames() creates, so sessions do not contend on one znode.
import { encodeRequest } from '../protocol/client-codec.js';
import { Code } from '../protocol/codes.js';
import { CreateFlag, OpCode, Perm } from '../protocol/opcodes.js';
import type { ACL } from '../protocol/records.js';
import type { Workload } from './session.js';

export const WORKLOADS = ['read', 'write', 'mixed', 'create-delete'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export const ROOT = '/zkts-bench';
export const DATA_BYTES = 100;

const OPEN_ACL_UNSAFE: ACL[] = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const payload = Buffer.alloc(DATA_BYTES, 0x61); // 100 × 'a'

export const sessionNode = (i: number): string => `${ROOT}/s-${i}`;
export const sessionParent = (i: number): string => `${ROOT}/cd-${i}`;

export function createFrame(path: string, data: Buffer | null, flags: number): Buffer {
  return encodeRequest(0, { type: OpCode.create, path, data, acl: OPEN_ACL_UNSAFE, flags, ttl: -1n });
}

/** Creates for the znodes a run over sessions 0..n-1 uses, parents first; NodeExists is fine. */
export function setupFrames(sessions: number): Buffer[] {
  const frames = [createFrame(ROOT, null, CreateFlag.PERSISTENT)];
  for (let i = 0; i < sessions; i++) {
    frames.push(createFrame(sessionNode(i), payload, CreateFlag.PERSISTENT));
    frames.push(createFrame(sessionParent(i), null, CreateFlag.PERSISTENT));
  }
  return frames;
}

export const toleratesNodeExists = (type: number, err: number): boolean =>
  type === OpCode.create && err === Code.NodeExists;

/** Sends `frames` in order, one at a time (K must be 1 for a strict order). */
export function scriptWorkload(frames: Buffer[]): Workload {
  let i = 0;
  return { next: () => frames[i++] ?? null, tolerated: toleratesNodeExists };
}

/** xorshift32: a seeded, allocation-free source for the mixed workload's coin. */
function xorshift(seed: number): () => number {
  let x = seed | 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

export function makeWorkload(name: WorkloadName, session: number, seed: number): Workload {
  const path = sessionNode(session);
  const read = encodeRequest(0, { type: OpCode.getData, path, watch: false });
  const write = encodeRequest(0, { type: OpCode.setData, path, data: payload, version: -1 });
  switch (name) {
    case 'read':
      return { next: () => read };
    case 'write':
      return { next: () => write };
    case 'mixed': {
      const coin = xorshift(seed * 7919 + session);
      return { next: () => (coin() < 0.9 ? read : write) };
    }
    case 'create-delete':
      return createDeleteWorkload(sessionParent(session));
  }
}

/**
 * Each slot creates an ephemeral-sequential znode, then deletes the path the server returned,
 * and so on; a failed create is retried as a create. Each create and each delete is one op.
 */
function createDeleteWorkload(parent: string): Workload {
  const create = createFrame(`${parent}/e-`, payload, CreateFlag.EPHEMERAL_SEQUENTIAL);
  return {
    next(_slot, lastType, reply) {
      if (lastType !== OpCode.create || reply === null || reply.readInt32BE(12) !== 0) return create;
      // reply: xid(4) zxid(8) err(4) path(4 + len); delete: len xid type path version
      const len = reply.readInt32BE(16);
      const f = Buffer.allocUnsafe(20 + len);
      f.writeInt32BE(16 + len, 0);
      f.writeInt32BE(0, 4);
      f.writeInt32BE(OpCode.delete, 8);
      reply.copy(f, 12, 16, 20 + len);
      f.writeInt32BE(-1, 16 + len);
      return f;
    },
  };
}

/**
 * Creates `count` persistent znodes of DATA_BYTES under `${base}/p-NN/n-NNNNN` (1,000 per
 * parent), shared by all sessions and slots of a process: each next() takes the next index.
 * `parentFrames` makes the parents; run them first.
 */
export function populateWorkload(base: string, from: number, to: number): Workload {
  let i = from;
  return {
    next() {
      if (i >= to) return null;
      const n = i++;
      return createFrame(populatePath(base, n), payload, CreateFlag.PERSISTENT);
    },
    tolerated: toleratesNodeExists,
  };
}

const populateParent = (base: string, p: number): string => `${base}/p-${String(p).padStart(3, '0')}`;

export function populatePath(base: string, n: number): string {
  return `${populateParent(base, Math.floor(n / 1000))}/n-${String(n).padStart(6, '0')}`;
}

export function populateParentFrames(base: string, count: number): Buffer[] {
  const frames = [createFrame(ROOT, null, CreateFlag.PERSISTENT), createFrame(base, null, CreateFlag.PERSISTENT)];
  for (let p = 0; p * 1000 < count; p++) frames.push(createFrame(populateParent(base, p), null, CreateFlag.PERSISTENT));
  return frames;
}
