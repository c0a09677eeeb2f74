// crash-recorder.ts — the recording client of the crash test. Each slot is one session writing
// under its own znode (/s<i>): creates and deletes of children, setData of the slot node with
// ever-increasing values, conditional setData, and multis (some bound to fail). Requests are
// pipelined; a session's requests are applied in order, so after a crash the slot must hold
// exactly the effect of a prefix of what it issued, at least every acknowledged request and at
// most all of them. A small model predicts each request's outcome (checked against every reply)
// and rebuilds the candidate states; the slot as read back after a restart must equal one of
// them, stat fields included (versions, cversion, and the zxids the replies told).
import assert from 'node:assert/strict';
import { Code } from '../../src/protocol/codes.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import type { Request } from '../../src/protocol/requests.js';
import type { ResponseReply, TestClient } from '../conformance/test-client.js';
import { OPEN } from './helpers.js';

export interface ZNodeModel {
  data: string;
  version: number;
  cversion: number;
  children: Set<string>;
  /** null: set by a request whose zxid is not known (it was in flight at the crash). */
  czxid: bigint | null;
  mzxid: bigint | null;
  pzxid: bigint | null;
}

export type SlotState = Map<string, ZNodeModel>;

function clone(s: SlotState): SlotState {
  return new Map([...s].map(([p, n]) => [p, { ...n, children: new Set(n.children) }]));
}

const parentOf = (p: string): string => p.slice(0, p.lastIndexOf('/')) || '/';
const nameOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** Applies a write as ZooKeeper would; returns its error code (0: applied). A multi is all or nothing. */
export function applyOp(s: SlotState, req: Request, zxid: bigint | null): number {
  switch (req.type) {
    case OpCode.create: {
      if (s.has(req.path)) return Code.NodeExists;
      const parent = s.get(parentOf(req.path));
      if (parent === undefined) return Code.NoNode;
      s.set(req.path, { data: req.data?.toString() ?? '', version: 0, cversion: 0, children: new Set(), czxid: zxid, mzxid: zxid, pzxid: zxid });
      parent.children.add(nameOf(req.path));
      parent.cversion++;
      parent.pzxid = zxid;
      return 0;
    }
    case OpCode.delete: {
      const n = s.get(req.path);
      if (n === undefined) return Code.NoNode;
      if (req.version !== -1 && req.version !== n.version) return Code.BadVersion;
      if (n.children.size > 0) return Code.NotEmpty;
      s.delete(req.path);
      const parent = s.get(parentOf(req.path))!;
      parent.children.delete(nameOf(req.path));
      parent.cversion++;
      parent.pzxid = zxid;
      return 0;
    }
    case OpCode.setData: {
      const n = s.get(req.path);
      if (n === undefined) return Code.NoNode;
      if (req.version !== -1 && req.version !== n.version) return Code.BadVersion;
      n.data = req.data?.toString() ?? '';
      n.version++;
      n.mzxid = zxid;
      return 0;
    }
    case OpCode.check: {
      const n = s.get(req.path);
      if (n === undefined) return Code.NoNode;
      return req.version === n.version ? 0 : Code.BadVersion;
    }
    case OpCode.multi: {
      const copy = clone(s);
      for (const op of req.ops) {
        const rc = applyOp(copy, op, zxid);
        if (rc !== 0) return rc;
      }
      s.clear();
      for (const [p, n] of copy) s.set(p, n);
      return 0;
    }
    default:
      throw new Error(`the crash model has no write ${req.type}`);
  }
}

/** A reply's outcome: its error code, or for a multi the first failing op's. */
export function replyCode(r: ResponseReply): number {
  if (r.err !== 0) return r.err;
  if (r.body?.type === OpCode.multi) {
    for (const res of r.body.results) if (res.type === OpCode.error && res.err !== 0 && res.err !== Code.RuntimeInconsistency) return res.err;
  }
  return 0;
}

interface Issued {
  req: Request;
  expect: number;
  zxid: bigint | null;
}

export interface VerifyOutcome {
  /** Requests in flight at the crash that turned out applied, and that did not. */
  keptInFlight: number;
  lostInFlight: number;
}

/** One session's subtree: its committed state, what it issued since, what was acknowledged. */
export class Slot {
  state: SlotState;
  private predicted: SlotState;
  private issued: Issued[] = [];
  acked = 0;
  maxAckedZxid = 0n;
  private counter = 0;
  private seq = 0;
  readonly errors: string[] = [];

  constructor(readonly root: string) {
    this.state = new Map();
    this.predicted = new Map();
  }

  /** Before the first round: the slot node exists (created and acknowledged). */
  adoptRoot(zxid: bigint): void {
    const n: ZNodeModel = { data: 'v0', version: 0, cversion: 0, children: new Set(), czxid: zxid, mzxid: zxid, pzxid: zxid };
    this.state = new Map([[this.root, n]]);
    this.predicted = clone(this.state);
  }

  private children(): string[] {
    return [...this.predicted.get(this.root)!.children].sort();
  }

  /** The next request, from the state all issued requests lead to; its outcome predicted. */
  next(rnd: () => number): Request {
    const r = rnd();
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const kids = this.children();
    const root = this.predicted.get(this.root)!;
    const bytes = (s: string): Buffer => Buffer.from(rnd() < 0.05 ? s + '.'.repeat(1000 + Math.floor(rnd() * 3000)) : s);
    let req: Request;
    if (r < 0.28) {
      req = { type: OpCode.create, path: `${this.root}/k${Math.floor(rnd() * 10)}`, data: bytes(`c${++this.seq}`), acl: OPEN, flags: 0, ttl: -1n };
    } else if (r < 0.55 || kids.length === 0) {
      req = { type: OpCode.setData, path: this.root, data: Buffer.from(`v${++this.counter}`), version: -1 };
    } else if (r < 0.65) {
      const path = `${this.root}/${pick(kids)}`;
      const v = this.predicted.get(path)!.version;
      req = { type: OpCode.setData, path, data: bytes(`d${++this.seq}`), version: rnd() < 0.8 ? v : v + 5 };
    } else if (r < 0.8) {
      req = { type: OpCode.delete, path: `${this.root}/${rnd() < 0.8 ? pick(kids) : 'k' + Math.floor(rnd() * 10)}`, version: -1 };
    } else if (r < 0.95) {
      const ops: Request[] = [
        { type: OpCode.create, path: `${this.root}/m${Math.floor(rnd() * 5)}`, data: Buffer.from(`m${++this.seq}`), acl: OPEN, flags: 0, ttl: -1n },
        { type: OpCode.setData, path: this.root, data: Buffer.from(`v${++this.counter}`), version: -1 },
      ];
      if (rnd() < 0.6) ops.push({ type: OpCode.delete, path: `${this.root}/${pick(kids)}`, version: -1 });
      req = { type: OpCode.multi, ops };
    } else {
      req = {
        type: OpCode.multi,
        ops: [
          { type: OpCode.check, path: this.root, version: root.version + 7 },
          { type: OpCode.setData, path: this.root, data: Buffer.from(`never${++this.seq}`), version: -1 },
        ],
      };
    }
    const expect = applyOp(this.predicted, req, null);
    this.issued.push({ req, expect, zxid: null });
    return req;
  }

  /** A reply, in issue order (one session's replies come in order). */
  reply(index: number, r: ResponseReply): void {
    if (index !== this.acked) this.errors.push(`${this.root}: reply to request ${index} came before the reply to ${this.acked}`);
    const it = this.issued[index]!;
    const got = replyCode(r);
    if (got !== it.expect) this.errors.push(`${this.root}: request ${index} (${JSON.stringify(it.req, (_, v) => (typeof v === 'bigint' ? String(v) : v))}) answered ${got}, the model expected ${it.expect}`);
    it.zxid = r.zxid;
    if (r.zxid > this.maxAckedZxid) this.maxAckedZxid = r.zxid;
    this.acked++;
  }

  get issuedCount(): number {
    return this.issued.length;
  }

  /**
   * The slot as read back after a restart must be the effect of the first k requests issued, for
   * some k from the acknowledged count to the issued count. Adopts it as the new committed state.
   */
  verify(observed: SlotState, what: string): VerifyOutcome {
    let s = clone(this.state);
    for (let i = 0; i < this.acked; i++) applyOp(s, this.issued[i]!.req, this.issued[i]!.zxid);
    const tried: string[] = [];
    for (let k = this.acked; k <= this.issued.length; k++) {
      if (k > this.acked) applyOp(s, this.issued[k - 1]!.req, null);
      const diff = this.difference(s, observed);
      if (diff === null) {
        const out = { keptInFlight: k - this.acked, lostInFlight: this.issued.length - k };
        this.state = clone(observed);
        this.predicted = clone(observed);
        this.issued = [];
        this.acked = 0;
        this.maxAckedZxid = 0n;
        return out;
      }
      tried.push(`after ${k} of ${this.issued.length} requests (${this.acked} acknowledged): ${diff}`);
    }
    assert.fail(`${what}: ${this.root} is no prefix of its requests:\n  ${tried.join('\n  ')}`);
  }

  /** null when `observed` is `model`; unknown zxids must be newer than every acknowledged one. */
  private difference(model: SlotState, observed: SlotState): string | null {
    const paths = new Set([...model.keys(), ...observed.keys()]);
    for (const p of [...paths].sort()) {
      const m = model.get(p);
      const o = observed.get(p);
      if (m === undefined || o === undefined) return `${p} ${m === undefined ? 'exists but should not' : 'is missing'}`;
      if (m.data !== o.data) return `${p} data ${JSON.stringify(o.data.slice(0, 40))}, model ${JSON.stringify(m.data.slice(0, 40))}`;
      if (m.version !== o.version) return `${p} version ${o.version}, model ${m.version}`;
      if (m.cversion !== o.cversion) return `${p} cversion ${o.cversion}, model ${m.cversion}`;
      if ([...m.children].sort().join() !== [...o.children].sort().join()) return `${p} children [${[...o.children].sort()}], model [${[...m.children].sort()}]`;
      for (const f of ['czxid', 'mzxid', 'pzxid'] as const) {
        const mv = m[f];
        const ov = o[f]!;
        if (mv !== null && mv !== ov) return `${p} ${f} 0x${ov.toString(16)}, model 0x${mv.toString(16)}`;
        if (mv === null && ov <= this.maxAckedZxid) return `${p} ${f} 0x${ov.toString(16)} from a request in flight is not after the last acknowledged 0x${this.maxAckedZxid.toString(16)}`;
      }
    }
    return null;
  }
}

/** Reads a slot's subtree (the slot node and its children) through a client. */
export async function readSlot(c: TestClient, root: string): Promise<SlotState> {
  const out: SlotState = new Map();
  const read = async (path: string): Promise<void> => {
    const d = await c.request({ type: OpCode.getData, path, watch: false });
    if (d.err === Code.NoNode) return;
    assert.equal(d.err, 0, `getData ${path}`);
    const kids = await c.request({ type: OpCode.getChildren, path, watch: false });
    assert.equal(kids.err, 0, `getChildren ${path}`);
    if (d.body?.type !== OpCode.getData || kids.body?.type !== OpCode.getChildren) throw new Error(`unexpected replies for ${path}`);
    const st = d.body.stat;
    out.set(path, {
      data: d.body.data?.toString() ?? '',
      version: st.version,
      cversion: st.cversion,
      children: new Set(kids.body.children),
      czxid: st.czxid,
      mzxid: st.mzxid,
      pzxid: st.pzxid,
    });
    for (const k of kids.body.children) await read(`${path}/${k}`);
  };
  await read(root);
  return out;
}
