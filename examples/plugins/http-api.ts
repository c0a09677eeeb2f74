// http-api.ts — HTTP+JSON access to the tree, and a live watch stream over WebSocket (or
// Server-Sent Events), for browsers and curl. Every call runs on a real ZooKeeper session
// through the protocol API, so sessions, ACLs, ordering, watches and limits are exactly those of
// a ZooKeeper client:
//
//   POST   /v1/sessions          {"timeoutMs"?, "auth"?: [{"scheme","credential"}]} → {"session","token","timeoutMs"}
//   DELETE /v1/sessions/current  closes the session of the token sent (its ephemerals go)
//   POST   /v1/auth              {"scheme","credential"}: addauth on the token's session
//   GET    /v1/znodes/<path>     getData        ?encoding=base64  ?stat (exists)  ?children (getChildren2)
//   PUT    /v1/znodes/<path>     setData        body = the data; ?version=N
//   POST   /v1/znodes/<path>     create         body = the data; ?mode=persistent|ephemeral|sequential|
//                                               ephemeral_sequential|container; ?acl=open|read|creator
//   DELETE /v1/znodes/<path>     delete         ?version=N
//   GET    /v1/watch?path=/p[&recursive=true]   upgrade to WebSocket (or Accept: text/event-stream):
//                                               a persistent watch, one JSON event per message
//
// A request names its session with `Authorization: ZkSession <token>`; without one it runs on an
// anonymous session of its own address (its only id is ip:<address>). A session idle past its
// timeout expires as any ZooKeeper session does. Errors are {"error": "NoNode", "code": -101}
// with a fitting HTTP status.
//
//   plugin.7=./examples/plugins/http-api.ts
//   plugin.7.port=8181
//
// In your own plugin, import from 'zkts/plugin'.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Code, codeName, CreateFlag, definePlugin, EventType, OpCode, option, Perm, SessionError } from '../../src/plugin/index.js';
import type { ACL, PluginSession, ProtocolContext, Request, Response, Stat } from '../../src/plugin/index.js';
import { acceptWebSocket } from './websocket.js';

const STATUS: Record<number, number> = {
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
  [Code.SessionExpired]: 410,
  [Code.ConnectionLoss]: 503,
  [Code.OperationTimeout]: 504,
};

const MODES: Record<string, number> = {
  persistent: CreateFlag.PERSISTENT,
  ephemeral: CreateFlag.EPHEMERAL,
  sequential: CreateFlag.PERSISTENT_SEQUENTIAL,
  ephemeral_sequential: CreateFlag.EPHEMERAL_SEQUENTIAL,
  container: CreateFlag.CONTAINER,
};

const ACLS: Record<string, ACL[]> = {
  open: [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }],
  read: [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }],
  creator: [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }],
};

const EVENT_NAMES = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const hex = (n: bigint): string => `0x${BigInt.asUintN(64, n).toString(16)}`;

export function statJson(s: Stat): Record<string, unknown> {
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

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function zkError(code: number): HttpError {
  return new HttpError(STATUS[code] ?? 500, code, codeName(code));
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > maxBytes) throw new HttpError(413, Code.BadArguments, `body larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const body = await readBody(req, maxBytes);
  if (body.length === 0) return {};
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, Code.BadArguments, 'the body must be a JSON object');
}

/** The sessions this front end holds: by token, and one anonymous session per client address. */
class Sessions {
  private readonly byId = new Map<bigint, PluginSession>();
  private readonly anonymous = new Map<string, Promise<PluginSession>>();

  constructor(
    private readonly pctx: ProtocolContext,
    private readonly timeoutMs: number,
    private readonly maxAnonymous: number,
  ) {}

  private track(s: PluginSession): PluginSession {
    this.byId.set(s.sessionId, s);
    s.onClose(() => {
      if (this.byId.get(s.sessionId) === s) this.byId.delete(s.sessionId);
    });
    return s;
  }

  async create(req: IncomingMessage, timeoutMs: number): Promise<PluginSession> {
    return this.track(await this.pctx.openSession({ timeoutMs, remoteAddress: req.socket.remoteAddress ?? '', remotePort: req.socket.remotePort ?? 0 }));
  }

  /** The session a request names, resumed if this front end no longer holds its connection. */
  async of(req: IncomingMessage): Promise<PluginSession> {
    const auth = req.headers.authorization;
    if (auth === undefined) return this.anonymousFor(req.socket.remoteAddress ?? '');
    const m = /^ZkSession ([0-9a-f]{1,16})\.([A-Za-z0-9_-]+)$/.exec(auth);
    if (m === null) throw new HttpError(401, Code.AuthFailed, 'Authorization must be "ZkSession <token>"');
    const sessionId = BigInt.asIntN(64, BigInt(`0x${m[1]}`));
    const passwd = Buffer.from(m[2]!, 'base64url');
    const held = this.byId.get(sessionId);
    if (held !== undefined && !held.closed) {
      if (held.passwd.length !== passwd.length || !timingSafeEqual(held.passwd, passwd)) throw new HttpError(401, Code.AuthFailed, 'bad session token');
      return held;
    }
    try {
      return this.track(await this.pctx.openSession({ sessionId, passwd, timeoutMs: this.timeoutMs, remoteAddress: req.socket.remoteAddress ?? '' }));
    } catch (e) {
      if (e instanceof SessionError) throw zkError(e.code);
      throw e;
    }
  }

  private anonymousFor(address: string): Promise<PluginSession> {
    const cached = this.anonymous.get(address);
    if (cached !== undefined) {
      return cached.then((s) => (s.closed ? this.openAnonymous(address) : s));
    }
    return this.openAnonymous(address);
  }

  private openAnonymous(address: string): Promise<PluginSession> {
    if (this.anonymous.size >= this.maxAnonymous) {
      const [oldest, p] = this.anonymous.entries().next().value as [string, Promise<PluginSession>];
      this.anonymous.delete(oldest);
      void p.then((s) => s.close(), () => undefined);
    }
    const p = this.pctx.openSession({ timeoutMs: this.timeoutMs, remoteAddress: address });
    this.anonymous.set(address, p);
    p.catch(() => this.anonymous.delete(address));
    return p;
  }

  token(s: PluginSession): string {
    return `${BigInt.asUintN(64, s.sessionId).toString(16)}.${s.passwd.toString('base64url')}`;
  }

  async closeAll(): Promise<void> {
    const all = [...this.byId.values(), ...(await Promise.allSettled(this.anonymous.values())).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
    this.byId.clear();
    this.anonymous.clear();
    for (const s of all) s.detach();
  }
}

async function run(s: PluginSession, req: Request): Promise<Response | null> {
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

function versionOf(url: URL): number {
  const v = url.searchParams.get('version');
  if (v === null) return -1;
  if (!/^-?\d+$/.test(v)) throw new HttpError(400, Code.BadArguments, 'version must be an integer');
  return Number(v);
}

/** The port each loaded instance listens on, by label (for tests and port=0). */
export const listening = new Map<string, number>();

export default definePlugin({
  name: 'http-api',
  version: '1.0.0',
  options: {
    host: option.string({ default: '127.0.0.1' }),
    port: option.integer({ default: 8181, min: 0, max: 65535 }),
    sessionTimeoutMs: option.integer({ default: 30_000, min: 1 }),
    maxBodyBytes: option.integer({ default: 0xfffff, min: 1 }),
    maxAnonymousSessions: option.integer({ default: 1000, min: 1 }),
  },
  setup(ctx) {
    const o = ctx.options;
    ctx.protocol({
      name: 'http-json',
      async listen(pctx) {
        const sessions = new Sessions(pctx, o.sessionTimeoutMs, o.maxAnonymousSessions);

        async function znode(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
          const s = await sessions.of(req);
          const q = url.searchParams;
          switch (req.method) {
            case 'GET': {
              if (q.has('children')) {
                const r = (await run(s, { type: OpCode.getChildren2, path, watch: false })) as { children: string[]; stat: Stat };
                send(res, 200, { path, children: [...r.children].sort(), stat: statJson(r.stat) });
              } else if (q.has('stat')) {
                const r = (await run(s, { type: OpCode.exists, path, watch: false })) as { stat: Stat };
                send(res, 200, { path, stat: statJson(r.stat) });
              } else {
                const r = (await run(s, { type: OpCode.getData, path, watch: false })) as { data: Buffer | null; stat: Stat };
                const base64 = q.get('encoding') === 'base64';
                const data = r.data === null ? null : base64 ? r.data.toString('base64') : r.data.toString('utf8');
                send(res, 200, { path, data, encoding: base64 ? 'base64' : 'utf8', stat: statJson(r.stat) });
              }
              return;
            }
            case 'PUT': {
              const data = await readBody(req, o.maxBodyBytes);
              const r = (await run(s, { type: OpCode.setData, path, data, version: versionOf(url) })) as { stat: Stat };
              send(res, 200, { path, stat: statJson(r.stat) });
              return;
            }
            case 'POST': {
              const mode = MODES[q.get('mode') ?? 'persistent'];
              const acl = ACLS[q.get('acl') ?? 'open'];
              if (mode === undefined || acl === undefined) throw new HttpError(400, Code.BadArguments, 'unknown mode or acl');
              const data = await readBody(req, o.maxBodyBytes);
              const type = mode === CreateFlag.CONTAINER ? OpCode.createContainer : OpCode.create2;
              const r = (await run(s, { type, path, data, acl, flags: mode, ttl: -1n })) as { path: string; stat: Stat };
              send(res, 201, { path: r.path, stat: statJson(r.stat) });
              return;
            }
            case 'DELETE':
              await run(s, { type: OpCode.delete, path, version: versionOf(url) });
              send(res, 204);
              return;
            default:
              throw new HttpError(405, Code.Unimplemented, `${req.method} is not allowed`);
          }
        }

        async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
          const url = new URL(req.url ?? '/', 'http://zkts');
          const p = url.pathname;
          if (p === '/v1/znodes' || p.startsWith('/v1/znodes/')) {
            const path = decodeURIComponent(p.slice('/v1/znodes'.length)) || '/';
            await znode(req, res, url, path);
          } else if (p === '/v1/sessions' && req.method === 'POST') {
            const body = await readJson(req, o.maxBodyBytes);
            const timeoutMs = typeof body.timeoutMs === 'number' ? body.timeoutMs : o.sessionTimeoutMs;
            const s = await sessions.create(req, timeoutMs);
            for (const a of Array.isArray(body.auth) ? (body.auth as Array<{ scheme?: unknown; credential?: unknown }>) : []) {
              if (typeof a.scheme !== 'string' || typeof a.credential !== 'string') throw new HttpError(400, Code.BadArguments, 'auth entries need scheme and credential');
              const code = await s.addAuth(a.scheme, a.credential);
              if (code !== Code.OK) throw zkError(code);
            }
            send(res, 201, { session: hex(s.sessionId), token: sessions.token(s), timeoutMs: s.timeoutMs });
          } else if (p === '/v1/sessions/current' && req.method === 'DELETE') {
            if (req.headers.authorization === undefined) throw new HttpError(400, Code.BadArguments, 'send the session token to close');
            await (await sessions.of(req)).close();
            send(res, 204);
          } else if (p === '/v1/auth' && req.method === 'POST') {
            const body = await readJson(req, o.maxBodyBytes);
            if (typeof body.scheme !== 'string' || typeof body.credential !== 'string') throw new HttpError(400, Code.BadArguments, 'scheme and credential are required');
            const code = await (await sessions.of(req)).addAuth(body.scheme, body.credential);
            if (code !== Code.OK) throw zkError(code);
            send(res, 204);
          } else if (p === '/v1/watch' && req.headers.accept === 'text/event-stream') {
            const stream = await watch(req, url);
            res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
            res.write(': watching\n\n');
            stream.subscribe((text) => res.write(`data: ${text}\n\n`));
            stream.onEnd(() => res.end());
            res.on('close', () => stream.end());
          } else {
            throw new HttpError(404, Code.NoNode, `no route ${req.method} ${p}`);
          }
        }

        /**
         * A persistent watch for the life of one stream: on the caller's session when it sends a
         * token (so READ is checked with its ids; one stream per path per session), else on a
         * session of its own for the caller's address. The session is pinged while the stream lasts.
         */
        async function watch(req: IncomingMessage, url: URL) {
          const path = url.searchParams.get('path') ?? '/';
          const recursive = url.searchParams.get('recursive') !== 'false';
          const own = req.headers.authorization === undefined;
          const s = own
            ? await pctx.openSession({ timeoutMs: o.sessionTimeoutMs, remoteAddress: req.socket.remoteAddress ?? '', keepAlive: true })
            : await sessions.of(req);
          try {
            await run(s, { type: OpCode.addWatch, path, mode: recursive ? 1 : 0 });
          } catch (e) {
            if (own) s.detach();
            throw e;
          }
          const covers = (p: string): boolean => p === path || (recursive && (path === '/' || p.startsWith(path + '/')));
          const ping = own ? null : setInterval(() => void s.submit({ type: OpCode.ping }).catch(() => undefined), Math.max(100, s.timeoutMs / 3));
          ping?.unref();
          let ended = false;
          const unsubscribers: Array<() => void> = [];
          return {
            subscribe(fn: (text: string) => void): void {
              unsubscribers.push(
                s.onWatchEvent((ev) => {
                  if (covers(ev.path)) fn(JSON.stringify({ type: EVENT_NAMES[ev.type] ?? ev.type, path: ev.path, zxid: hex(ev.zxid) }));
                }),
              );
            },
            onEnd(fn: () => void): void {
              unsubscribers.push(s.onClose(fn));
            },
            end(): void {
              if (ended) return;
              ended = true;
              if (ping !== null) clearInterval(ping);
              for (const u of unsubscribers) u();
              if (own) void s.close();
              else void s.submit({ type: OpCode.removeWatches, path, watcherType: recursive ? 5 : 4 }).catch(() => undefined);
            },
          };
        }

        const http = createServer((req, res) => {
          handle(req, res).catch((e: unknown) => {
            if (e instanceof HttpError) send(res, e.status, { error: codeName(e.code), code: e.code, message: e.message });
            else {
              ctx.log('error', `${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
              send(res, 500, { error: 'SystemError', code: Code.SystemError });
            }
          });
        });
        http.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
          const url = new URL(req.url ?? '/', 'http://zkts');
          if (url.pathname !== '/v1/watch') {
            socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
            return;
          }
          watch(req, url).then(
            (stream) => {
              const peer = acceptWebSocket(req, socket, head);
              if (peer === null) {
                stream.end();
                return;
              }
              stream.subscribe((text) => peer.send(text));
              stream.onEnd(() => peer.close(1011, 'session ended'));
              peer.onClose(() => stream.end());
            },
            (e: unknown) => {
              const status = e instanceof HttpError ? e.status : 500;
              socket.end(`HTTP/1.1 ${status} ${e instanceof HttpError ? e.message : 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
            },
          );
        });
        await new Promise<void>((resolve, reject) => {
          http.once('error', reject);
          http.listen(o.port, o.host, () => {
            http.off('error', reject);
            resolve();
          });
        });
        const addr = http.address() as AddressInfo;
        ctx.log('info', `HTTP API on http://${o.host}:${addr.port}/v1/`);
        listening.set(ctx.label, addr.port);
        return async () => {
          listening.delete(ctx.label);
          await sessions.closeAll();
          http.closeAllConnections();
          await new Promise<void>((r) => http.close(() => r()));
        };
      },
    });
  },
});
