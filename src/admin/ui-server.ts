// ui-server.ts — the web tree browser on the AdminServer's port, under /ui:
//   GET  /ui                       the page (src/admin/ui/index.html, ui.js, ui.css; no build step)
//   GET  /ui/api/whoami            the ids the request's session has, whether edits are allowed
//   GET  /ui/api/node?path=        data (base64), stat, ACL and children of one znode
//   GET  /ui/api/search?q=&path=   paths under `path` containing q (a bounded walk of getChildren)
//   GET  /ui/api/events?path=      Server-Sent Events: a persistent recursive watch on `path`
//   POST /ui/api/create|set|delete JSON bodies; only with zkts.admin.ui.edit=true and an
//                                  authenticated request (digest or x509), with X-Zkts-Ui: 1
// Everything runs on ZooKeeper sessions of the request's identity (ui-sessions.ts), so the
// server's ACL checks decide what is shown and what may change: an anonymous request is
// world:anyone + ip:<address>, never more. Credentials come as the AdminServer takes them
// (`Authorization: digest user:password`) or as a client certificate over HTTPS.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Code, codeName } from '../protocol/codes.js';
import { CreateFlag, EventType, OpCode, Perm } from '../protocol/opcodes.js';
import type { ACL, Stat } from '../protocol/records.js';
import type { Request } from '../protocol/requests.js';
import type { Response } from '../protocol/client-codec.js';
import { MemorySession, SessionError } from '../plugin/protocol-session.js';
import { x509ClientId, x509Ids } from '../server/auth/x509.js';
import type { ZkServer } from '../server/zk-server.js';
import { isAuthenticated, UiAuthError, UiSessions, type UiIdentity } from './ui-sessions.js';

export interface UiOptions {
  /** zkts.admin.ui.edit: create, set and delete allowed (to authenticated requests). */
  edit: boolean;
  /** zookeeper.X509AuthenticationProvider.superUser, for client certificates. */
  x509SuperUser?: string;
  sessionTimeoutMs?: number;
  /** A cached session unused this long is closed. */
  idleMs?: number;
  maxSessions?: number;
  /** The most znodes one search visits. */
  searchVisitMax?: number;
  /** Heartbeat comment on event streams (keeps proxies and idle timeouts from closing them). */
  heartbeatMs?: number;
}

export const UI_PATH = '/ui';

const STATIC: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'ui.js': 'text/javascript; charset=utf-8',
  'ui.css': 'text/css; charset=utf-8',
};

/** The page's files: beside this module under src/, or src/admin/ui from dist/admin. */
function loadStatic(): Map<string, Buffer> {
  const dirs = [new URL('./ui/', import.meta.url), new URL('../../src/admin/ui/', import.meta.url)];
  for (const dir of dirs) {
    try {
      return new Map(Object.keys(STATIC).map((name) => [name, readFileSync(new URL(name, dir))]));
    } catch {
      // try the next place
    }
  }
  throw new Error(`the UI's files (${Object.keys(STATIC).join(', ')}) are missing from src/admin/ui`);
}

const STATUS: Readonly<Record<number, number>> = {
  [Code.NoNode]: 404,
  [Code.NodeExists]: 409,
  [Code.BadVersion]: 409,
  [Code.NotEmpty]: 409,
  [Code.NoChildrenForEphemerals]: 409,
  [Code.NoAuth]: 403,
  [Code.AuthFailed]: 401,
  [Code.InvalidACL]: 400,
  [Code.BadArguments]: 400,
  [Code.MarshallingError]: 400,
  [Code.Throttled]: 429,
  [Code.QuotaExceeded]: 413,
  [Code.ConnectionLoss]: 503,
  [Code.OperationTimeout]: 504,
};

class UiHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

function zkError(code: number): UiHttpError {
  return new UiHttpError(STATUS[code] ?? 500, codeName(code), code);
}

const hex = (n: bigint): string => `0x${BigInt.asUintN(64, n).toString(16)}`;

function statJson(s: Stat): Record<string, unknown> {
  return {
    czxid: hex(s.czxid),
    mzxid: hex(s.mzxid),
    pzxid: hex(s.pzxid),
    ctime: Number(s.ctime),
    mtime: Number(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: hex(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

const PERM_LETTERS: ReadonlyArray<readonly [number, string]> = [
  [Perm.CREATE, 'c'], [Perm.DELETE, 'd'], [Perm.READ, 'r'], [Perm.WRITE, 'w'], [Perm.ADMIN, 'a'],
];

function aclJson(acl: readonly ACL[]): Array<Record<string, string>> {
  return acl.map((a) => ({
    scheme: a.id.scheme,
    id: a.id.id,
    perms: PERM_LETTERS.filter(([bit]) => (a.perms & bit) !== 0).map(([, l]) => l).join(''),
  }));
}

const EVENT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

async function run(s: MemorySession, req: Request): Promise<Response | null> {
  let r;
  try {
    r = await s.submit(req);
  } catch (e) {
    if (e instanceof SessionError) throw zkError(e.code);
    throw e;
  }
  if (r.err !== Code.OK) throw zkError(r.err);
  return r.response;
}

/** A znode path from a query or body: absolute, no empty or relative segments. */
function pathParam(v: unknown): string {
  if (typeof v !== 'string' || v === '') return '/';
  if (!v.startsWith('/') || (v !== '/' && (v.endsWith('/') || v.includes('//'))) || /(^|\/)\.\.?(\/|$)/.test(v)) {
    throw new UiHttpError(400, `not a valid znode path: ${JSON.stringify(v)}`, Code.BadArguments);
  }
  return v;
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > maxBytes) throw new UiHttpError(413, `body larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new UiHttpError(400, 'the body must be a JSON object');
}

function dataParam(body: Record<string, unknown>): Buffer {
  const data = body.data ?? '';
  if (typeof data !== 'string') throw new UiHttpError(400, 'data must be a string');
  if (body.encoding === 'base64') return Buffer.from(data, 'base64');
  if (body.encoding === 'hex') {
    const h = data.replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new UiHttpError(400, 'data is not hex');
    return Buffer.from(h, 'hex');
  }
  return Buffer.from(data, 'utf8');
}

function versionParam(body: Record<string, unknown>): number {
  const v = body.version;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v > 0x7fffffff) {
    throw new UiHttpError(400, 'version must be the znode version the edit was made against (-1: any)');
  }
  return v;
}

const CREATE_MODES: Readonly<Record<string, number>> = {
  persistent: CreateFlag.PERSISTENT,
  persistent_sequential: CreateFlag.PERSISTENT_SEQUENTIAL,
  container: CreateFlag.CONTAINER,
};

const CREATE_ACLS: Readonly<Record<string, ACL[]>> = {
  open: [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }],
  creator: [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }],
  read_only: [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }],
};

export class UiServer {
  private readonly files = loadStatic();
  private readonly sessions: UiSessions;
  private readonly streams = new Set<() => void>();
  private readonly searchVisitMax: number;
  private readonly heartbeatMs: number;

  constructor(
    private readonly server: ZkServer,
    private readonly opts: UiOptions,
  ) {
    this.sessions = new UiSessions(server, {
      sessionTimeoutMs: opts.sessionTimeoutMs ?? 30_000,
      idleMs: opts.idleMs ?? 120_000,
      maxSessions: opts.maxSessions ?? 64,
    });
    this.searchVisitMax = opts.searchVisitMax ?? 20_000;
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
  }

  /** Whether this request is the UI's (path /ui or under it). */
  static owns(path: string): boolean {
    return path === UI_PATH || path.startsWith(`${UI_PATH}/`);
  }

  /** Answers one request under /ui; errors become JSON answers with a fitting status. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    try {
      await this.route(req, res, path, url);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof UiHttpError) sendJson(res, e.status, { error: e.message, ...(e.code === undefined ? {} : { code: e.code }) });
      else if (e instanceof UiAuthError) sendJson(res, 401, { error: e.message });
      else throw e;
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === UI_PATH) {
      res.writeHead(302, { Location: `${UI_PATH}/` }).end();
      return;
    }
    const rest = path.slice(UI_PATH.length + 1);
    if (!rest.startsWith('api/')) {
      const name = rest === '' ? 'index.html' : rest;
      const body = this.files.get(name);
      if (body === undefined || (method !== 'GET' && method !== 'HEAD')) throw new UiHttpError(404, `Not Found: ${path}`);
      res.writeHead(200, { 'Content-Type': STATIC[name]!, 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    const who = this.identity(req);
    const q = url.searchParams;
    if (method === 'GET') {
      switch (rest) {
        case 'api/whoami':
          return this.whoami(res, who);
        case 'api/node':
          return this.node(res, who, pathParam(q.get('path')));
        case 'api/search':
          return this.search(res, who, pathParam(q.get('path')), q.get('q') ?? '');
        case 'api/events':
          return this.events(req, res, who, pathParam(q.get('path')));
      }
    } else if (method === 'POST' && (rest === 'api/create' || rest === 'api/set' || rest === 'api/delete')) {
      return this.edit(req, res, who, rest.slice(4));
    }
    throw new UiHttpError(404, `no route ${method} ${path}`);
  }

  /** The identity the request proves: its address, digest credentials, a verified client certificate. */
  private identity(req: IncomingMessage): UiIdentity {
    const remoteAddress = req.socket.remoteAddress ?? '';
    const tls = req.socket as Partial<TLSSocket>;
    let x509: UiIdentity['x509'];
    // only when the server knows the x509 scheme (X509AuthenticationProvider, or TLS on the client port)
    if (tls.encrypted === true && tls.authorized === true && this.server.providers.has('x509')) {
      const cert = tls.getPeerX509Certificate?.();
      if (cert !== undefined) x509 = x509Ids(x509ClientId(cert.raw), { superUser: this.opts.x509SuperUser });
    }
    const header = req.headers.authorization;
    if (header === undefined || header === '') return { remoteAddress, ...(x509 === undefined ? {} : { x509 }) };
    const m = /^digest ([^:\s][^:]*:.*)$/i.exec(header);
    if (m === null) throw new UiHttpError(401, 'Authorization must be "digest <user>:<password>"');
    return { remoteAddress, digest: m[1]!, ...(x509 === undefined ? {} : { x509 }) };
  }

  private async whoami(res: ServerResponse, who: UiIdentity): Promise<void> {
    const s = await this.sessions.of(who);
    const r = (await run(s, { type: OpCode.whoAmI })) as { clientInfo: Array<{ authScheme: string; user: string }> };
    const authenticated = isAuthenticated(who);
    sendJson(res, 200, {
      ids: r.clientInfo.map((c) => ({ scheme: c.authScheme, id: c.user })),
      authenticated,
      editEnabled: this.opts.edit,
      canEdit: this.opts.edit && authenticated,
    });
  }

  /** getData, getChildren2 and getACL on one session (answered in order); a refused part says why. */
  private async node(res: ServerResponse, who: UiIdentity, path: string): Promise<void> {
    const s = await this.sessions.of(who);
    const [data, children, acl] = await Promise.allSettled([
      run(s, { type: OpCode.getData, path, watch: false }),
      run(s, { type: OpCode.getChildren2, path, watch: false }),
      run(s, { type: OpCode.getACL, path }),
    ]);
    const failed = (r: PromiseSettledResult<unknown>): string | undefined => (r.status === 'rejected' ? (r.reason as Error).message : undefined);
    // no znode (or the session failed): the request fails; a refused part (NoAuth) is shown as such
    if (data.status === 'rejected' && (data.reason as UiHttpError).code !== Code.NoAuth) throw data.reason;
    const d = data.status === 'fulfilled' ? (data.value as { data: Buffer | null; stat: Stat }) : null;
    const c = children.status === 'fulfilled' ? (children.value as { children: string[]; stat: Stat }) : null;
    const a = acl.status === 'fulfilled' ? (acl.value as { acl: ACL[]; stat: Stat }) : null;
    const stat = d?.stat ?? c?.stat ?? a?.stat;
    sendJson(res, 200, {
      path,
      stat: stat === undefined ? null : statJson(stat),
      data: d === null ? null : d.data === null ? null : d.data.toString('base64'),
      dataError: failed(data),
      children: c === null ? null : [...c.children].sort(),
      childrenError: failed(children),
      acl: a === null ? null : aclJson(a.acl),
      aclError: failed(acl),
    });
  }

  /** Paths under `root` whose path contains `needle` (case-insensitive), breadth first. */
  private async search(res: ServerResponse, who: UiIdentity, root: string, needle: string): Promise<void> {
    const s = await this.sessions.of(who);
    const want = needle.toLowerCase();
    const matches: string[] = [];
    const limit = 500;
    let visited = 0;
    let truncated = false;
    let level = [root];
    if (root.toLowerCase().includes(want)) matches.push(root);
    while (level.length > 0 && !truncated) {
      const next: string[] = [];
      // one level at a time, pipelined on the session
      const lists = await Promise.all(
        level.map((p) => run(s, { type: OpCode.getChildren, path: p, watch: false }).then((r) => ({ p, kids: (r as { children: string[] }).children }), () => ({ p, kids: [] as string[] }))),
      );
      for (const { p, kids } of lists) {
        for (const k of kids.sort()) {
          const child = p === '/' ? `/${k}` : `${p}/${k}`;
          if (++visited > this.searchVisitMax) {
            truncated = true;
            break;
          }
          if (child.toLowerCase().includes(want)) {
            if (matches.length >= limit) {
              truncated = true;
              break;
            }
            matches.push(child);
          }
          next.push(child);
        }
        if (truncated) break;
      }
      level = next;
    }
    sendJson(res, 200, { root, q: needle, matches, visited: Math.min(visited, this.searchVisitMax), truncated });
  }

  /**
   * Server-Sent Events: a session of the request's identity of its own, with a persistent
   * recursive watch on `path`; each event is one `change` message {type, path, zxid}. The
   * session closes with the stream.
   */
  private async events(req: IncomingMessage, res: ServerResponse, who: UiIdentity, path: string): Promise<void> {
    const s = await this.sessions.open(who);
    try {
      await run(s, { type: OpCode.addWatch, path, mode: 1 });
    } catch (e) {
      void s.close();
      throw e;
    }
    req.socket.setTimeout(0); // the admin server's idle timeout is for request/response
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(`: watching ${path}\n\nevent: ready\ndata: {}\n\n`);
    const off = s.onWatchEvent((ev) => {
      res.write(`event: change\ndata: ${JSON.stringify({ type: EVENT_NAMES[ev.type] ?? ev.type, path: ev.path, zxid: hex(ev.zxid) })}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), this.heartbeatMs);
    heartbeat.unref();
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.streams.delete(end);
      clearInterval(heartbeat);
      off();
      void s.close();
      res.end();
    };
    this.streams.add(end);
    s.onClose(end);
    res.on('close', end);
  }

  private async edit(req: IncomingMessage, res: ServerResponse, who: UiIdentity, op: string): Promise<void> {
    if (!this.opts.edit) throw new UiHttpError(403, 'editing is off: set zkts.admin.ui.edit=true in zoo.cfg');
    if (!isAuthenticated(who)) throw new UiHttpError(401, 'editing needs an authenticated request (digest credentials or a client certificate)');
    // a custom header: a cross-site form cannot send it, and a cross-origin script needs CORS, which this server never grants
    if (req.headers['x-zkts-ui'] !== '1') throw new UiHttpError(403, 'edits must come from the page (X-Zkts-Ui: 1)');
    const body = await readBody(req, this.server.opts.maxFrameBytes * 2 + 4096);
    const path = pathParam(body.path);
    const s = await this.sessions.of(who);
    switch (op) {
      case 'set': {
        const r = (await run(s, { type: OpCode.setData, path, data: dataParam(body), version: versionParam(body) })) as { stat: Stat };
        sendJson(res, 200, { path, stat: statJson(r.stat) });
        return;
      }
      case 'create': {
        const mode = CREATE_MODES[typeof body.mode === 'string' ? body.mode : 'persistent'];
        const acl = CREATE_ACLS[typeof body.acl === 'string' ? body.acl : 'open'];
        if (mode === undefined) throw new UiHttpError(400, `mode must be one of ${Object.keys(CREATE_MODES).join(', ')}`);
        if (acl === undefined) throw new UiHttpError(400, `acl must be one of ${Object.keys(CREATE_ACLS).join(', ')}`);
        const type = mode === CreateFlag.CONTAINER ? OpCode.createContainer : OpCode.create2;
        const r = (await run(s, { type, path, data: dataParam(body), acl, flags: mode, ttl: -1n })) as { path: string; stat: Stat };
        sendJson(res, 201, { path: r.path, stat: statJson(r.stat) });
        return;
      }
      default: {
        await run(s, { type: OpCode.delete, path, version: versionParam(body) });
        sendJson(res, 200, { path, deleted: true });
      }
    }
  }

  async close(): Promise<void> {
    for (const end of [...this.streams]) end();
    await this.sessions.close();
  }
}
