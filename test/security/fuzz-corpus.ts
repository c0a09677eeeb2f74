// fuzz-corpus.ts — the fuzzers' seeds: every frame of the golden captures (test/protocol/golden,
// real client ↔ ZooKeeper 3.8 traffic), each tagged with what it is and, for requests and replies,
// the opcode it carries or answers (replies name no opcode: the client knows it by xid, so the
// capture is walked as golden.test.ts walks it). Also the positions in each frame where an int32
// reads as a plausible length (0..bytes left, or -1): where a length-field corruption hits home.
import { Buffer } from 'node:buffer';
import { loadFixtures } from '../protocol/golden-helpers.js';

export type SeedKind = 'connectRequest' | 'request' | 'connectResponse' | 'reply' | 'notification';

export interface Seed {
  /** fixture:frame index, for reports. */
  origin: string;
  kind: SeedKind;
  /** The whole frame, 4-byte length prefix included. */
  frame: Buffer;
  /** request: its opcode; reply: the opcode of the request it answers; otherwise 0. */
  opcode: number;
  /** Offsets (in `frame`) of int32s that read as a length or count that fits what follows. */
  lengthFields: number[];
}

/** The client → server frames of one captured connection, in order (connect first). */
export interface Conversation {
  origin: string;
  /** Indexes into Corpus.seeds. */
  frames: number[];
}

export interface Corpus {
  seeds: Seed[];
  conversations: Conversation[];
}

let cached: Corpus | undefined;

export function loadCorpus(): Corpus {
  if (cached !== undefined) return cached;
  const seeds: Seed[] = [];
  const conversations: Conversation[] = [];
  for (const fx of loadFixtures()) {
    const conns = new Map<number, { sent: number; received: number; types: Map<number, number[]>; c2s: number[] }>();
    for (const [i, f] of fx.frames.entries()) {
      if (f.raw === true) continue;
      const frame = Buffer.from(f.hex, 'hex');
      const st = conns.get(f.conn) ?? { sent: 0, received: 0, types: new Map<number, number[]>(), c2s: [] };
      conns.set(f.conn, st);
      const origin = `${fx.name}:${i}`;
      let kind: SeedKind;
      let opcode = 0;
      if (f.direction === 'c2s') {
        st.c2s.push(seeds.length);
        if (st.sent++ === 0) kind = 'connectRequest';
        else {
          kind = 'request';
          const xid = frame.readInt32BE(4);
          opcode = frame.readInt32BE(8);
          st.types.set(xid, [...(st.types.get(xid) ?? []), opcode]);
        }
      } else if (st.received++ === 0) {
        kind = 'connectResponse';
      } else {
        const xid = frame.readInt32BE(4);
        if (xid === -1) kind = 'notification';
        else {
          kind = 'reply';
          opcode = st.types.get(xid)?.shift() ?? 0;
        }
      }
      seeds.push({ origin, kind, frame, opcode, lengthFields: lengthFields(frame) });
    }
    for (const [conn, st] of conns) conversations.push({ origin: `${fx.name}#${conn}`, frames: st.c2s });
  }
  cached = { seeds, conversations };
  return cached;
}

/** Offsets of int32s in `frame` that read as -1 or a length that fits the bytes after them. */
export function lengthFields(frame: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + 4 <= frame.length; at++) {
    const v = frame.readInt32BE(at);
    if (v === -1 || (v >= 0 && v <= frame.length - at - 4)) out.push(at);
  }
  return out;
}
