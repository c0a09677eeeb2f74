// host.ts — the plugins of one server: loads them, runs their setup, and is what the server's
// hooks call into. Lifecycle, in this order:
//   start  (before the client port opens) load every module and validate every plugin's options;
//          then setup() each plugin in order — its hooks, auth providers and protocols register;
//   listen (once the server takes clients) change listeners resume from their cursors; protocols
//          start listening, in plugin order;
//   stop   protocols stop (reverse order) before the server closes its connections; after it
//          has, listeners get a deadline to drain their queues, then each plugin's onStop
//          functions run, last plugin first.
// A failure in start or listen stops what had started and fails the server's start with a
// ZktsError naming the plugin; a failure in stop is logged and the rest still stop.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ZktsError } from '../errors.js';
import { Code } from '../protocol/codes.js';
import { OpCode } from '../protocol/opcodes.js';
import type { Id } from '../protocol/records.js';
import type { Request } from '../protocol/requests.js';
import type { AuthProvider } from '../server/auth/digest.js';
import type { ReadResult } from '../server/reads.js';
import type { TxnResult } from '../tree/data-tree.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import { Boundary, describe, FAULT, HookFault } from './boundary.js';
import { ListenerRunner, type TxnSource } from './change-listeners.js';
import { type LoadedPlugin, loadPlugins } from './loader.js';
import { NodeBehaviours } from './node-behaviours.js';
import { MemorySession } from './protocol-session.js';
import type {
  AfterApplyStage,
  BeforePrepStage,
  HookStatus,
  Logger,
  PluginAuthProvider,
  PluginContext,
  PluginSpec,
  PluginStatus,
  Protocol,
  ProtocolContext,
  ServerInfo,
  SessionInfo,
  TxnInfo,
} from './types.js';

/** What the host needs of the server (a ZkServer fits). */
export interface PluginServer {
  readonly tree: {
    readonly nodeCount: number;
    approximateDataSize(): number;
    readonly dataWatches: { readonly size: number };
    readonly childWatches: { readonly size: number };
  };
  readonly sessions: { readonly sessions: ReadonlyMap<bigint, unknown> };
  readonly connections: ReadonlySet<unknown>;
  readonly stats: { packetsReceived: number; packetsSent: number; readonly avgLatencyMs: number; maxLatencyMs: number };
  readonly startedAt: number;
  readonly zxid: bigint;
  readonly opts: { readonly maxFrameBytes: number };
  /** Takes a connection speaking ZooKeeper's binary protocol, as the client port does. */
  acceptConnection(socket: Socket): void;
  log(level: 'info' | 'warn' | 'error', msg: string): void;
}

export interface PluginHostOptions {
  /** The server's auth providers by scheme; plugins' providers are added at setup. */
  providers: Map<string, AuthProvider>;
  /** The txn log, for listeners with a cursor; null on an in-memory server. */
  txnSource?: TxnSource | null;
  /** Where relative plugin paths and package names resolve from (the working directory). */
  baseDir?: string;
}

// Generous: a synchronous hook cannot be interrupted, so this only turns a slow one into a failed
// request; a tight figure would fail requests on a GC pause or a loaded machine.
const DEFAULT_SYNC_DEADLINE_MS = 1000;
const DEFAULT_ASYNC_DEADLINE_MS = 5000;
const BUILTIN_SCHEMES = new Set(['world', 'auth', 'ip', 'digest', 'sasl', 'super', 'x509']);
/** Never staged: keeping a session alive, closing it, authenticating it, re-arming its watches. */
const NOT_STAGED = new Set<number>([OpCode.ping, OpCode.closeSession, OpCode.auth, OpCode.sasl, OpCode.setWatches, OpCode.setWatches2]);

interface Instance {
  loaded: LoadedPlugin;
  boundary: Boundary;
  faultCode: number;
  stops: Array<() => void | Promise<void>>;
  protocols: Protocol[];
  protocolStops: Array<{ name: string; stop: () => void | Promise<void> }>;
  runners: ListenerRunner[];
}

interface Stage<F> {
  fn: F;
  instance: Instance;
  status: HookStatus;
  hook: string;
}

export class PluginHost {
  readonly behaviours: NodeBehaviours;
  private instances: Instance[] = [];
  private runners: ListenerRunner[] = [];
  private beforePrepStages: Array<Stage<BeforePrepStage>> = [];
  private afterApplyStages: Array<Stage<AfterApplyStage>> = [];
  private readonly abort = new AbortController();
  private phase: 'new' | 'setup' | 'started' | 'listening' | 'stopped' = 'new';

  constructor(
    private readonly server: PluginServer,
    private readonly specs: readonly PluginSpec[],
    private readonly opts: PluginHostOptions,
  ) {
    this.behaviours = new NodeBehaviours(opts.providers, (b) => this.faultCodeOf(b), server.startedAt);
  }

  private faultCodeOf(b: Boundary): number {
    return this.instances.find((i) => i.boundary === b)?.faultCode ?? Code.SystemError;
  }

  private readonly log: Logger = (level, msg) => this.server.log(level, msg);

  // ---- lifecycle ----------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.phase !== 'new') throw new Error(`plugins already started (${this.phase})`);
    this.phase = 'setup';
    const loaded = await loadPlugins(this.specs, this.opts.baseDir);
    for (const l of loaded) {
      const def = l.plugin;
      const boundary = new Boundary(l.label, this.log, def.syncDeadlineMs ?? DEFAULT_SYNC_DEADLINE_MS, def.asyncDeadlineMs ?? DEFAULT_ASYNC_DEADLINE_MS);
      const instance: Instance = { loaded: l, boundary, faultCode: def.faultCode ?? Code.SystemError, stops: [], protocols: [], protocolStops: [], runners: [] };
      this.instances.push(instance);
      let open = true;
      const ctx = this.context(instance, () => open);
      try {
        await boundary.async('setup', boundary.status('setup'), () => def.setup(ctx));
      } catch (e) {
        open = false;
        await this.runStops(this.instances);
        this.instances = [];
        this.phase = 'stopped';
        const root = e instanceof HookFault ? e.cause : e;
        if (root instanceof ZktsError) throw root; // a misuse of ctx, already naming the plugin
        throw new ZktsError('ZKTS_ERR_CONFIG', `${l.label}: setup ${describe(e)}`, { cause: e });
      }
      open = false;
      this.log('info', `${l.label}: loaded${def.version ? ` (version ${def.version})` : ''}`);
    }
    this.phase = 'started';
  }

  async listen(): Promise<void> {
    if (this.phase !== 'started') return;
    this.phase = 'listening';
    for (const inst of this.instances) {
      for (const r of inst.runners) {
        try {
          await r.start();
        } catch (e) {
          throw new ZktsError('ZKTS_ERR_CONFIG', `${inst.loaded.label}: changeListener cursor ${describe(e)}`, { cause: e });
        }
      }
      for (const p of inst.protocols) {
        const ctx = this.protocolContext();
        let stop: unknown;
        try {
          stop = await inst.boundary.async(`protocol(${p.name}).listen`, inst.boundary.status(`protocol(${p.name}).listen`), () => p.listen(ctx));
        } catch (e) {
          throw new ZktsError('ZKTS_ERR_LISTEN', `${inst.loaded.label}: protocol ${p.name}: listen ${describe(e)}`, { cause: e });
        }
        if (typeof stop === 'function') inst.protocolStops.push({ name: p.name, stop: stop as () => void | Promise<void> });
        this.log('info', `${inst.loaded.label}: protocol ${p.name} listening`);
      }
    }
  }

  /** Before the server closes its connections: protocols stop taking requests. */
  async beforeStop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.abort.abort();
    for (const inst of [...this.instances].reverse()) {
      for (const p of inst.protocolStops.reverse()) {
        await inst.boundary
          .async(`protocol(${p.name}).stop`, inst.boundary.status(`protocol(${p.name}).stop`), p.stop)
          .catch((e: unknown) => inst.boundary.fault(`protocol(${p.name}).stop`, describe(e)));
      }
      inst.protocolStops = [];
    }
  }

  /** After the server closed its connections: listeners drain (within a deadline), then onStop. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    await this.beforeStop();
    this.phase = 'stopped';
    await Promise.all(this.instances.flatMap((inst) => inst.runners.map((r) => r.idle(inst.boundary.asyncDeadlineMs))));
    for (const r of this.runners) r.stop();
    await this.runStops(this.instances);
  }

  private async runStops(instances: Instance[]): Promise<void> {
    for (const inst of [...instances].reverse()) {
      for (const fn of [...inst.stops].reverse()) {
        await inst.boundary.async('onStop', inst.boundary.status('onStop'), fn).catch((e: unknown) => inst.boundary.fault('onStop', describe(e)));
      }
      inst.stops = [];
    }
  }

  // ---- the context a plugin's setup gets --------------------------------------------------------

  private context(inst: Instance, open: () => boolean): PluginContext<unknown> {
    const label = inst.loaded.label;
    const b = inst.boundary;
    const during = (what: string): void => {
      if (!open()) throw new Error(`${label}: ${what} must be called during setup`);
    };
    const fail = (msg: string): never => {
      throw new ZktsError('ZKTS_ERR_CONFIG', `${label}: ${msg}`);
    };
    const host = this;
    const ctx: PluginContext<unknown> = {
      options: inst.loaded.options,
      label,
      log: (level, msg) => this.log(level, `${label}: ${msg}`),
      nodeBehaviour: (prefix, behaviour) => {
        during('nodeBehaviour');
        const err = this.behaviours.mount(prefix, behaviour, b);
        if (err !== null) fail(err);
      },
      changeListener: (listener) => {
        during('changeListener');
        if (typeof listener?.onTxn !== 'function') fail('changeListener needs an onTxn function');
        const r = new ListenerRunner(listener, b, this.opts.txnSource ?? null, () => this.server.zxid, this.runners.length);
        inst.runners.push(r);
        this.runners.push(r);
      },
      requestStage(stage: 'beforePrep' | 'afterApply', fn: BeforePrepStage | AfterApplyStage) {
        during('requestStage');
        if (typeof fn !== 'function') fail(`requestStage(${stage}) needs a function`);
        const hook = `requestStage(${stage})`;
        if (stage === 'beforePrep') host.beforePrepStages.push({ fn: fn as BeforePrepStage, instance: inst, status: b.status(hook), hook });
        else if (stage === 'afterApply') host.afterApplyStages.push({ fn: fn as AfterApplyStage, instance: inst, status: b.status(hook), hook });
        else fail(`requestStage: no stage ${JSON.stringify(stage)}; the stages are beforePrep and afterApply`);
      },
      authProvider: (p) => {
        during('authProvider');
        if (typeof p?.scheme !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(p.scheme)) fail(`authProvider: scheme ${JSON.stringify(p?.scheme)} is not a scheme name`);
        if (BUILTIN_SCHEMES.has(p.scheme)) fail(`authProvider: scheme ${p.scheme} is built in and cannot be replaced`);
        if (this.opts.providers.has(p.scheme)) fail(`authProvider: scheme ${p.scheme} is already provided by another plugin`);
        this.opts.providers.set(p.scheme, wrapAuthProvider(p, b));
      },
      protocol: (p) => {
        during('protocol');
        if (typeof p?.name !== 'string' || typeof p.listen !== 'function') fail('protocol needs a name and a listen function');
        if (this.instances.some((i) => i.protocols.some((q) => q.name === p.name))) fail(`protocol ${p.name} is already registered`);
        inst.protocols.push(p);
      },
      onStop: (fn) => {
        if (typeof fn !== 'function') fail('onStop needs a function');
        inst.stops.push(fn);
      },
      server: () => this.serverInfo(),
      pluginStatus: () => this.status(),
    };
    return ctx;
  }

  private protocolContext(): ProtocolContext {
    const accept = (stream: Duplex): void => this.server.acceptConnection(stream as unknown as Socket);
    return {
      openSession: (o) => MemorySession.open(accept, o, this.server.opts.maxFrameBytes),
      acceptZooKeeperStream: (stream, peer) => {
        const s = stream as Duplex & { remoteAddress?: string; remotePort?: number; setNoDelay?: () => unknown };
        if (s.remoteAddress === undefined) Object.defineProperty(s, 'remoteAddress', { value: peer.remoteAddress });
        if (s.remotePort === undefined) Object.defineProperty(s, 'remotePort', { value: peer.remotePort });
        if (typeof s.setNoDelay !== 'function') s.setNoDelay = () => s;
        accept(s);
      },
      signal: this.abort.signal,
    };
  }

  // ---- what the server calls -------------------------------------------------------------------

  /** beforePrep stages: 0 to go on, else the code to answer with (no txn is made). */
  beforePrep(req: Request, session: SessionInfo): number {
    const stages = this.beforePrepStages;
    if (stages.length === 0 || NOT_STAGED.has(req.type)) return 0;
    for (const s of stages) {
      const v = s.instance.boundary.sync(s.hook, s.status, () => s.fn(req, session));
      if (v === FAULT) return s.instance.faultCode;
      if (v === undefined) continue;
      const code = refusalCode(v);
      if (code === null) {
        s.status.faults++;
        s.instance.boundary.fault(s.hook, `returned ${String(v)}, which is not a verdict; the request fails`);
        return s.instance.faultCode;
      }
      s.status.refusals++;
      return code;
    }
    return 0;
  }

  /** After apply: listeners hear of the txn; afterApply stages see the write (and cannot change its reply). */
  applied(hdr: TxnHeader, txn: Txn, result: TxnResult, session: SessionInfo | null, req: Request | null): void {
    if (this.runners.length > 0) {
      const info: TxnInfo =
        session === null
          ? SERVER_MADE
          : {
              origin: {
                session: { sessionId: session.sessionId, authIds: copyIds(session.authIds), remoteAddress: session.remoteAddress },
                request: req,
              },
              replayed: false,
            };
      for (const r of this.runners) r.push(hdr, txn, result, info);
    }
    const stages = this.afterApplyStages;
    if (stages.length === 0 || session === null || req === null) return;
    const outcome = { err: result.err, zxid: hdr.zxid, hdr, txn, result };
    for (const s of stages) {
      const v = s.instance.boundary.sync(s.hook, s.status, () => s.fn(req, outcome, session));
      if (v === FAULT || v === undefined) continue;
      s.status.faults++;
      s.instance.boundary.fault(s.hook, `refused write 0x${hdr.zxid.toString(16)} after it was committed; a committed write's reply is not changed`);
    }
  }

  /** After a read ran: afterApply stages may replace its result with an error. */
  afterRead(req: Request, r: ReadResult, session: SessionInfo, zxid: bigint): ReadResult {
    const stages = this.afterApplyStages;
    if (stages.length === 0) return r;
    const outcome = { err: r.err, zxid };
    for (const s of stages) {
      const v = s.instance.boundary.sync(s.hook, s.status, () => s.fn(req, outcome, session));
      if (v === FAULT) return { err: s.instance.faultCode, body: { kind: 'none' } };
      if (v === undefined) continue;
      const code = refusalCode(v);
      if (code === null) {
        s.status.faults++;
        s.instance.boundary.fault(s.hook, `returned ${String(v)}, which is not a verdict; the request fails`);
        return { err: s.instance.faultCode, body: { kind: 'none' } };
      }
      s.status.refusals++;
      return { err: code, body: { kind: 'none' } };
    }
    return r;
  }

  // ---- status ------------------------------------------------------------------------------------

  serverInfo(): ServerInfo {
    const s = this.server;
    return {
      zxid: s.zxid,
      nodeCount: s.tree.nodeCount,
      sessionCount: s.sessions.sessions.size,
      connectionCount: s.connections.size,
      packetsReceived: s.stats.packetsReceived,
      packetsSent: s.stats.packetsSent,
      avgLatencyMs: s.stats.avgLatencyMs,
      maxLatencyMs: s.stats.maxLatencyMs,
      approximateDataSize: s.tree.approximateDataSize(),
      watchCount: s.tree.dataWatches.size + s.tree.childWatches.size,
      uptimeMs: Date.now() - s.startedAt,
      startedAt: s.startedAt,
    };
  }

  status(): PluginStatus[] {
    return this.instances.map((inst) => ({
      label: inst.loaded.label,
      name: inst.loaded.plugin.name,
      hooks: Object.fromEntries([...inst.boundary.hooks].map(([k, v]) => [k, { ...v }])),
      listeners: inst.runners.map((r) => ({ ...r.stats })),
    }));
  }
}

const SERVER_MADE: TxnInfo = Object.freeze({ origin: null, replayed: false });

function copyIds(ids: readonly Id[]): Id[] {
  return ids.map((id) => ({ scheme: id.scheme, id: id.id }));
}

function refusalCode(v: unknown): number | null {
  if (typeof v !== 'object' || v === null || !('error' in v)) return null;
  const code = (v as { error: unknown }).error;
  return typeof code === 'number' && Number.isInteger(code) && code !== 0 ? code : null;
}

/** A plugin's auth provider in the server's AuthProvider shape, each call in the boundary. */
function wrapAuthProvider(p: PluginAuthProvider, b: Boundary): AuthProvider {
  const tag = `authProvider(${p.scheme})`;
  const auth = b.status(`${tag}.authenticate`);
  const match = b.status(`${tag}.matches`);
  const valid = b.status(`${tag}.isValid`);
  const user = b.status(`${tag}.userName`);
  return {
    scheme: p.scheme,
    isAuthenticated: p.isAuthenticated ?? true,
    authenticate(authBytes, ctx) {
      const r = b.sync(`${tag}.authenticate`, auth, () => p.authenticate(authBytes, { remoteAddress: ctx.remoteAddress }));
      if (r === FAULT) return { error: 'the auth provider failed' };
      if (r === null || r === undefined) {
        auth.refusals++;
        return { error: 'refused' };
      }
      if (!Array.isArray(r) && 'error' in r) {
        auth.refusals++;
        return { error: String(r.error) };
      }
      const ids = Array.isArray(r) ? (r as readonly unknown[]) : (r as { ids: readonly unknown[] }).ids;
      if (!Array.isArray(ids) || ids.length === 0 || !ids.every(isId)) {
        auth.faults++;
        b.fault(`${tag}.authenticate`, 'returned something other than a non-empty list of {scheme, id}; authentication fails');
        return { error: 'the auth provider failed' };
      }
      return { ids: copyIds(ids) };
    },
    matches(id, aclExpr) {
      return b.sync(`${tag}.matches`, match, () => p.matches(id, aclExpr)) === true;
    },
    isValid(aclExpr) {
      return b.sync(`${tag}.isValid`, valid, () => p.isValid(aclExpr)) === true;
    },
    userName(id) {
      if (p.userName === undefined) return id;
      const name = b.sync(`${tag}.userName`, user, () => p.userName!(id));
      return typeof name === 'string' ? name : id;
    },
  };
}

function isId(v: unknown): v is Id {
  return typeof v === 'object' && v !== null && typeof (v as Id).scheme === 'string' && typeof (v as Id).id === 'string';
}
