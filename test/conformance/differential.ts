// differential.ts — runs the same scripted operations against two ZooKeeper-protocol servers over
// raw sockets and compares what they answer, field by field. Only values that legitimately differ
// between two runs are normalised: zxids, session ids and ephemeralOwners become placeholders in
// order of first appearance; ctime/mtime become "time of zxid Zn" (checked per server: one time
// per zxid, times non-decreasing in zxid order, inside the run's wall-clock window); passwords
// become their length. Everything else must be identical.
//
// Pieces: the client (test-client.ts), server processes (server-process.ts), a script runner that
// records one Observation per step, and compareRuns(). The first two are re-exported here.
import assert from 'node:assert/strict';
import type { ConnectResponse, OpResult, Response } from '../../src/protocol/client-codec.js';
import { codeName } from '../../src/protocol/codes.js';
import { OpCode, opName } from '../../src/protocol/opcodes.js';
import type { Stat } from '../../src/protocol/records.js';
import type { Request } from '../../src/protocol/requests.js';
import { ConnectionClosedError, type Notification, type ResponseReply, TestClient, pollUntil } from './test-client.js';

export * from './server-process.js';
export * from './test-client.js';

// ---------------------------------------------------------------------------------------------
// Scripts

interface StepBase {
  name: string;
  /** Which connection the step uses; scripts name them 'a', 'b', …. Default 'a'. */
  client?: string;
  /**
   * Set when ZooKeeper 3.9 answers this step differently from the 3.8 reference (the JIRA and
   * what changed). A difference here is reported but does not fail, unless
   * ZKTS_DIFF_VERSION_STRICT=1.
   */
  versionNote?: string;
}

/** What a step's request may depend on: values only known while the script runs. */
export interface ScriptContext {
  /** The highest zxid client `name` has seen in a reply, over all its connections so far. */
  lastZxid(name: string): bigint;
}

export type Step = StepBase &
  (
    | { connect: { timeOutMs?: number; resumeOf?: string; readOnly?: boolean; badPasswd?: boolean; sessionId?: bigint } }
    | { req: Request | ((ctx: ScriptContext) => Request); expectErr?: number }
    | { raw: { type: number; body?: Buffer }; expectErr?: number }
    | { events: number; timeoutMs?: number }
    | { poll: Request; until: PollCondition; timeoutMs?: number }
    | { close: true }
    | { drop: true }
  );

/** When a poll step stops repeating its request. */
export interface PollCondition {
  what: string;
  test(reply: ResponseReply): boolean;
}

export const errIs = (code: number): PollCondition => ({ what: `error ${codeName(code)}`, test: (r) => r.err === code });

export interface Script {
  name: string;
  steps: Step[];
  /**
   * Set (to the reason) when the server writes txns of its own during the script (container and
   * TTL reaping). Their timing differs between runs and a read reply's header zxid (the last
   * zxid applied) may show one; for such scripts those header zxids compare as ">=Zn" — the
   * newest placeholder at or below them — instead of exactly.
   */
  backgroundTxns?: string;
}

export interface Target {
  host: string;
  port: number;
}

/** What one step saw, normalised: its result and the notifications that arrived before it. */
export interface Observation {
  step: number;
  name: string;
  client: string;
  result: unknown;
  events: unknown[];
}

export interface RunResult {
  observations: Observation[];
  /** Problems the normaliser found inside one run (time/zxid inconsistencies, unmet expectErr). */
  anomalies: string[];
}

export interface RunOptions {
  /**
   * Compare the order of children, ephemerals and whoAmI entries too. ZooKeeper returns them in
   * Java HashSet / ConcurrentHashMap iteration order; by default they are compared as sets.
   */
  strictOrder?: boolean;
}

export async function runScript(target: Target, script: Script, opts: RunOptions = {}): Promise<RunResult> {
  const norm = new Normalizer(Math.floor(performance.timeOrigin), opts.strictOrder ?? false, script.backgroundTxns !== undefined);
  const clients = new Map<string, TestClient>();
  const lastZxids = new Map<string, bigint>();
  const ctx: ScriptContext = {
    lastZxid: (name) => {
      const c = clients.get(name);
      const seen = lastZxids.get(name) ?? 0n;
      return c !== undefined && c.lastZxid > seen ? c.lastZxid : seen;
    },
  };
  const observations: Observation[] = [];
  try {
    for (const [i, step] of script.steps.entries()) {
      const name = step.client ?? 'a';
      const before = clients.get(name);
      if (before !== undefined) lastZxids.set(name, ctx.lastZxid(name));
      const obs = await runStep(target, clients, name, step, norm, ctx);
      const after = clients.get(name);
      if (after !== undefined) lastZxids.set(name, ctx.lastZxid(name));
      observations.push({ step: i, name: step.name, client: name, ...obs });
      if ('expectErr' in step && step.expectErr !== undefined) {
        const got = (obs.result as { err?: string }).err;
        if (got !== codeName(step.expectErr)) {
          norm.anomalies.push(`step ${i} "${step.name}": expected ${codeName(step.expectErr)}, got ${String(got)}`);
        }
      }
    }
    // Anything still queued, or arriving before a final ping, is a trailing notification.
    for (const [name, c] of clients) {
      if (c.closed) continue;
      const ping = await c.request({ type: OpCode.ping });
      const events = c.takeNotifications(ping.seq).map((e) => norm.event(e));
      if (events.length > 0) {
        observations.push({ step: script.steps.length, name: 'trailing notifications', client: name, result: null, events });
      }
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close(5_000).catch(() => c.destroy())));
  }
  norm.checkTimeOrder();
  return { observations, anomalies: norm.anomalies };
}

async function runStep(
  target: Target,
  clients: Map<string, TestClient>,
  name: string,
  step: Step,
  norm: Normalizer,
  ctx: ScriptContext,
): Promise<{ result: unknown; events: unknown[] }> {
  if ('connect' in step) {
    const { resumeOf } = step.connect;
    const prev = resumeOf === undefined ? undefined : clients.get(resumeOf);
    if (resumeOf !== undefined && prev === undefined) throw new Error(`no client ${resumeOf}`);
    const passwd = prev === undefined ? undefined : Buffer.from(prev.connectResponse.passwd);
    if (passwd !== undefined && step.connect.badPasswd === true) passwd[0] = passwd[0]! ^ 0xff;
    const resume = prev === undefined ? {} : { sessionId: prev.sessionId, passwd, lastZxidSeen: ctx.lastZxid(resumeOf!) };
    const c = await TestClient.connect(target.host, target.port, {
      timeOutMs: step.connect.timeOutMs ?? 30_000,
      readOnly: step.connect.readOnly ?? false,
      ...resume,
      ...(step.connect.sessionId === undefined ? {} : { sessionId: step.connect.sessionId, passwd: Buffer.alloc(16) }),
    });
    clients.get(name)?.destroy();
    clients.set(name, c);
    // An expired or refused session (timeOut 0, sessionId 0) is answered and then closed. No ping
    // for a live one: it would move lastZxid, which a following setWatches must not see.
    let connection = 'open';
    if (c.connectResponse.sessionId === 0n) {
      connection = await c.waitClosed(5_000).then(() => 'closed', () => 'left open');
    }
    return { result: { ...(norm.connectResponse(c.connectResponse) as object), connection }, events: [] };
  }
  const c = clients.get(name);
  if (c === undefined) throw new Error(`step "${step.name}": client ${name} is not connected`);
  if ('events' in step) {
    const got = await c.waitForNotifications(step.events, step.timeoutMs);
    return { result: null, events: got.map((e) => norm.event(e)) };
  }
  if ('close' in step) {
    const reply = await c.close();
    return { result: reply === null ? 'connection closed' : norm.reply(reply), events: c.takeNotifications().map((e) => norm.event(e)) };
  }
  if ('drop' in step) {
    c.destroy();
    return { result: 'dropped', events: c.takeNotifications().map((e) => norm.event(e)) };
  }
  if ('poll' in step) {
    let last: ResponseReply | undefined;
    await pollUntil(`${opName(step.poll.type)} to answer ${step.until.what}`, step.timeoutMs ?? 10_000, async () => {
      last = await c.request(step.poll);
      return step.until.test(last) ? true : undefined;
    });
    return { result: norm.reply(last!), events: c.takeNotifications(last!.seq).map((e) => norm.event(e)) };
  }
  try {
    const reply =
      'req' in step
        ? await c.request(typeof step.req === 'function' ? step.req(ctx) : step.req)
        : await c.raw(step.raw.type, step.raw.body ?? Buffer.alloc(0));
    const result = norm.reply(reply);
    const events = c.takeNotifications(reply.seq).map((e) => norm.event(e));
    if ('raw' in step) {
      // Does the server keep the connection after this? A ping either comes back or the socket closes.
      const still = await c.request({ type: OpCode.ping }).then(() => 'open', () => 'closed');
      return { result: { ...(result as object), connection: still }, events };
    }
    return { result, events };
  } catch (e) {
    if (!(e instanceof ConnectionClosedError)) throw e;
    return { result: 'connection closed', events: c.takeNotifications().map((n) => norm.event(n)) };
  }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** Opcodes that never make a txn: their reply header carries the last zxid applied. */
const READS = new Set<number>([
  OpCode.exists, OpCode.getData, OpCode.getChildren, OpCode.getChildren2, OpCode.getACL, OpCode.sync, OpCode.ping,
  OpCode.multiRead, OpCode.checkWatches, OpCode.removeWatches, OpCode.addWatch, OpCode.setWatches, OpCode.setWatches2,
  OpCode.getEphemerals, OpCode.getAllChildrenNumber, OpCode.whoAmI, OpCode.auth, OpCode.sasl,
]);

class Normalizer {
  readonly anomalies: string[] = [];
  private readonly zxids = new Map<bigint, string>();
  private readonly sessions = new Map<bigint, string>();
  private readonly timeOfZxid = new Map<bigint, bigint>();

  constructor(
    private readonly startMs: number,
    private readonly strictOrder: boolean,
    private readonly looseReadZxids: boolean,
  ) {}

  /** A read's header zxid without allocating: ">=Zn" for the newest placeholder at or below it. */
  private atLeast(v: bigint): string | number {
    if (v <= 0n) return Number(v);
    let best: [bigint, string] | undefined;
    for (const [z, p] of this.zxids) if (z <= v && (best === undefined || z > best[0])) best = [z, p];
    return best === undefined ? '>=0' : `>=${best[1]}`;
  }

  zxid(v: bigint): string | number {
    if (v <= 0n) return Number(v);
    let p = this.zxids.get(v);
    if (p === undefined) this.zxids.set(v, (p = `Z${this.zxids.size + 1}`));
    return p;
  }

  /** A zxid that must not allocate a placeholder (it may be absent on the other side). */
  knownZxid(v: bigint): string | number {
    return v <= 0n ? Number(v) : (this.zxids.get(v) ?? 'unseen-zxid');
  }

  session(v: bigint): string | number {
    if (v === 0n) return 0;
    let p = this.sessions.get(v);
    if (p === undefined) this.sessions.set(v, (p = `S${this.sessions.size + 1}`));
    return p;
  }

  time(t: bigint, zxid: bigint, field: string): string | number {
    if (t === 0n && zxid === 0n) return 0;
    const seen = this.timeOfZxid.get(zxid);
    if (seen === undefined) this.timeOfZxid.set(zxid, t);
    else if (seen !== t) this.anomalies.push(`${field}: zxid 0x${zxid.toString(16)} has times ${seen} and ${t}`);
    const now = BigInt(Date.now());
    if (zxid > 0n && (t < BigInt(this.startMs) - 5_000n || t > now + 5_000n)) {
      this.anomalies.push(`${field}: time ${t} is outside this process's lifetime (${this.startMs}..${now})`);
    }
    return `time(${this.zxid(zxid)})`;
  }

  /** Times must not go backwards as zxids go forwards. */
  checkTimeOrder(): void {
    const byZxid = [...this.timeOfZxid].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let i = 1; i < byZxid.length; i++) {
      if (byZxid[i]![1] < byZxid[i - 1]![1]) {
        this.anomalies.push(`time goes backwards: zxid 0x${byZxid[i]![0].toString(16)} is older than its predecessor`);
      }
    }
  }

  stat(s: Stat): Record<string, unknown> {
    return {
      czxid: this.zxid(s.czxid),
      mzxid: this.zxid(s.mzxid),
      ctime: this.time(s.ctime, s.czxid, 'ctime'),
      mtime: this.time(s.mtime, s.mzxid, 'mtime'),
      version: s.version,
      cversion: s.cversion,
      aversion: s.aversion,
      ephemeralOwner: this.session(s.ephemeralOwner),
      dataLength: s.dataLength,
      numChildren: s.numChildren,
      pzxid: this.zxid(s.pzxid),
    };
  }

  connectResponse(r: ConnectResponse): unknown {
    return {
      protocolVersion: r.protocolVersion,
      timeOut: r.timeOut,
      sessionId: this.session(r.sessionId),
      passwdBytes: r.passwd.length,
      readOnly: r.readOnly,
    };
  }

  reply(r: ResponseReply): unknown {
    const zxid = this.looseReadZxids && READS.has(r.type) ? this.atLeast(r.zxid) : this.zxid(r.zxid);
    return { op: opName(r.type), zxid, err: codeName(r.err), body: r.body === null ? null : this.body(r.body) };
  }

  event(e: Notification): unknown {
    return { zxid: this.knownZxid(e.zxid), type: e.type, state: e.state, path: e.path };
  }

  private body(b: Response | OpResult): unknown {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(b)) {
      if (k === 'type') out.type = opName(v as number);
      else if (k === 'stat') out.stat = this.stat(v as Stat);
      else if (k === 'results') out.results = (v as OpResult[]).map((x) => this.body(x));
      else if (k === 'children' || k === 'ephemerals') out[k] = this.strictOrder ? v : [...(v as string[])].sort();
      else if (k === 'clientInfo') out[k] = this.strictOrder ? v : [...(v as object[])].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));
      else if (Buffer.isBuffer(v)) out[k] = data(v);
      else if (k === 'err') out.err = codeName(v as number);
      else out[k] = v;
    }
    return out;
  }
}

function data(b: Buffer): string {
  const s = b.toString('utf8');
  return /^[\x20-\x7e]*$/.test(s) ? `'${s}'` : `0x${b.toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Mismatch {
  step: number;
  name: string;
  client: string;
  field: string;
  left: unknown;
  right: unknown;
  /** The step's versionNote: a known 3.8/3.9 difference. */
  versionNote?: string;
}

/** A known 3.8 → 3.9 difference: 3.8 sends notifications with zxid -1, 3.9 the txn's zxid. */
function toleratedNotificationZxid(field: string, left: unknown, right: unknown): boolean {
  return /^events\[\d+\]\.zxid$/.test(field) && (left === -1 || right === -1);
}

export function compareRuns(left: RunResult, right: RunResult, script?: Script): Mismatch[] {
  const out: Mismatch[] = [];
  const n = Math.max(left.observations.length, right.observations.length);
  for (let i = 0; i < n; i++) {
    const l = left.observations[i];
    const r = right.observations[i];
    const at = l ?? r!;
    const diffs: Array<[string, unknown, unknown]> = [];
    diff('', l === undefined ? undefined : { result: l.result, events: l.events },
      r === undefined ? undefined : { result: r.result, events: r.events }, diffs);
    const versionNote = script?.steps[at.step]?.versionNote;
    for (const [field, lv, rv] of diffs) {
      if (toleratedNotificationZxid(field, lv, rv)) continue;
      out.push({ step: at.step, name: at.name, client: at.client, field, left: lv, right: rv, ...(versionNote === undefined ? {} : { versionNote }) });
    }
  }
  return out;
}

function diff(at: string, l: unknown, r: unknown, out: Array<[string, unknown, unknown]>): void {
  if (Object.is(l, r)) return;
  if (typeof l === 'object' && typeof r === 'object' && l !== null && r !== null && Array.isArray(l) === Array.isArray(r)) {
    const keys = new Set([...Object.keys(l), ...Object.keys(r)]);
    for (const k of keys) {
      const sub = Array.isArray(l) ? `${at}[${k}]` : at === '' ? k : `${at}.${k}`;
      diff(sub, (l as Record<string, unknown>)[k], (r as Record<string, unknown>)[k], out);
    }
    return;
  }
  out.push([at, l, r]);
}

export function formatMismatches(ms: Mismatch[], script: Script, left: RunResult, right: RunResult, names: [string, string]): string {
  const lines: string[] = [];
  const shown = new Set<number>();
  for (const m of ms) {
    lines.push(`script "${script.name}" step ${m.step} "${m.name}" (client ${m.client}): ${m.field}`);
    if (m.versionNote !== undefined) lines.push(`  (differs between ZooKeeper 3.8 and 3.9: ${m.versionNote})`);
    lines.push(`  ${names[0]}: ${show(m.left)}`);
    lines.push(`  ${names[1]}: ${show(m.right)}`);
    if (!shown.has(m.step)) {
      shown.add(m.step);
      const l = left.observations.find((o) => o.step === m.step && o.client === m.client);
      const r = right.observations.find((o) => o.step === m.step && o.client === m.client);
      lines.push(`  whole step, ${names[0]}: ${show(l)}`);
      lines.push(`  whole step, ${names[1]}: ${show(r)}`);
    }
  }
  return lines.join('\n');
}

function show(v: unknown): string {
  return v === undefined ? '(nothing)' : JSON.stringify(v);
}

export interface CompareOptions extends RunOptions {
  /** Fail on differences in steps with a versionNote too. */
  versionStrict?: boolean;
  /** Receives the report of tolerated (version-dependent) differences. */
  onTolerated?: (report: string) => void;
}

/** Runs `script` on both targets (concurrently) and fails with every difference. */
export async function assertSameBehaviour(
  script: Script,
  left: Target & { name: string },
  right: Target & { name: string },
  opts: CompareOptions = {},
): Promise<void> {
  const [l, r] = await Promise.all([runScript(left, script, opts), runScript(right, script, opts)]);
  const problems: string[] = [];
  for (const a of l.anomalies) problems.push(`${left.name}: ${a}`);
  for (const a of r.anomalies) problems.push(`${right.name}: ${a}`);
  const all = compareRuns(l, r, script);
  const tolerated = opts.versionStrict === true ? [] : all.filter((m) => m.versionNote !== undefined);
  const failing = all.filter((m) => !tolerated.includes(m));
  const names: [string, string] = [left.name, right.name];
  if (failing.length > 0) problems.push(formatMismatches(failing, script, l, r, names));
  if (tolerated.length > 0) opts.onTolerated?.(formatMismatches(tolerated, script, l, r, names));
  assert.equal(problems.length, 0, problems.join('\n'));
}
