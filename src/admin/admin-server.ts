// admin-server.ts — ZooKeeper's AdminServer (JettyAdminServer) on node:http:
//   GET  <commandURL>            the commands as HTML links, one per primary name, sorted
//   GET  <commandURL>/<name>     the command's JSON (query parameters are its arguments)
//   POST <commandURL>/<name>     restore (body: a snapshot), as in ZooKeeper 3.9
//   GET  <commandURL>/snapshot   streams the snapshot file (StreamOutputter) unless streaming=false
// Unknown names, a server that is not serving and missing auth are answered as ZooKeeper answers
// them (JSON with "error"; 200, 401 or 403). zkts adds two paths outside commandURL, for probes:
//   GET /health   200 {"status":"ok"} while the process answers
//   GET /ready    200 when the server serves clients, else 503
// Every answer is built from the live server when the request arrives.
// HTTPS as JettyAdminServer does it: admin.forceHttps serves HTTPS only, admin.portUnification
// HTTP and HTTPS on the one port (told apart by the first byte, 0x16 opening a TLS handshake);
// HTTPS answers carry Jetty's Strict-Transport-Security header (one day, subdomains included).
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import { ZktsError } from '../errors.js';
import type { FourLetterView } from '../server/four-letter.js';
import { verifiedPeerCertificate } from '../server/auth/x509.js';
import { CommandResponse, PRIMARY_NAMES, runCommand, type CommandContext } from './commands.js';
import { writeJson, type Json } from './json.js';

export interface AdminServerOptions {
  host: string;
  port: number;
  /** admin.commandURL, "/commands" by default. */
  commandUrl: string;
  /** admin.idleTimeout: ms an idle keep-alive connection stays open. */
  idleTimeoutMs: number;
  /** Builds the context (and a fresh FourLetterView) for one request. */
  context: () => CommandContext;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** HTTPS (admin.forceHttps / admin.portUnification); plain HTTP without it. */
  tls?: AdminTls;
  /** The web tree browser (ui-server.ts): it answers every path it owns (/ui, /ui/...). */
  ui?: {
    owns(path: string): boolean;
    handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void>;
    close(): Promise<void>;
  };
}

export interface AdminTls {
  /** Key, certificate chain and trusted CAs (tls-front.ts storeContextOptions), TLS versions. */
  context: SecureContextOptions;
  /** admin.forceHttps: HTTPS only; otherwise HTTP and HTTPS on one port. */
  forceHttps: boolean;
  /** admin.needClientAuth: only clients with a trusted certificate. */
  needClientAuth: boolean;
}

/** Jetty's SecureRequestCustomizer as JettyAdminServer sets it up. */
const STS_HEADER = 'max-age=86400; includeSubDomains';

export interface AdminServer {
  /** Where it listens (the port the OS chose when asked for 0). */
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json';

function send(res: ServerResponse, status: number, type: string | null, body: string): void {
  const headers: Record<string, string | number> = { 'Content-Length': Buffer.byteLength(body) };
  if (type !== null) headers['Content-Type'] = type;
  res.writeHead(status, headers);
  res.end(body);
}

async function sendCommand(res: ServerResponse, r: CommandResponse): Promise<void> {
  for (const [k, v] of r.headers) res.setHeader(k, v);
  if (r.stream === null) {
    send(res, r.status, JSON_TYPE, writeJson(r.toMap()));
    return;
  }
  const fh = r.stream;
  try {
    res.writeHead(r.status, { 'Content-Type': 'application/octet-stream' });
    await pipeline(fh.createReadStream({ autoClose: false }), res);
  } finally {
    await fh.close();
  }
}

/** The link list JettyAdminServer prints: println of each link, then of "<br/>". */
export function commandLinks(commandUrl: string): string {
  return PRIMARY_NAMES.map((n) => `<a href="${commandUrl}/${n}">${n}</a>\n<br/>\n`).join('');
}

function probe(res: ServerResponse, path: string, view: FourLetterView): void {
  if (path === '/health') {
    send(res, 200, JSON_TYPE, writeJson({ status: 'ok' }));
    return;
  }
  const serving = view.serving();
  const body: Json = { ready: serving, server_state: serving ? view.stats().serverState : null };
  send(res, serving ? 200 : 503, JSON_TYPE, writeJson(body));
}

/** Drains what is left of a POST body (a command that did not read it, or the link list's). */
async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  for await (const _chunk of req) {
    // discarded
  }
}

/** The whole body, read once, when the command asks for it (restore, after its checks). */
function bodyReader(req: IncomingMessage): () => Promise<Buffer> {
  let read: Promise<Buffer> | null = null;
  return () => {
    read ??= (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    })();
    return read;
  };
}

async function handle(opts: AdminServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    send(res, 405, 'text/plain', `${method} is not allowed\n`);
    return;
  }
  const url = new URL(req.url ?? '/', 'http://admin');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    send(res, 400, 'text/plain', 'Bad request: the path is not valid percent-encoding\n');
    return;
  }
  const base = opts.commandUrl.replace(/\/+$/, '');
  if (opts.ui?.owns(path) === true) {
    await opts.ui.handle(req, res, path, url);
    return;
  }
  if ((path === '/health' || path === '/ready') && method !== 'POST') {
    probe(res, path, opts.context().view);
    return;
  }
  if (path === base || path === `${base}/`) {
    if (method === 'POST') await drain(req);
    send(res, 200, 'text/html', commandLinks(base));
    return;
  }
  if (!path.startsWith(`${base}/`)) {
    send(res, 404, 'text/plain', `Not Found: ${path}\n`);
    return;
  }
  const kwargs = new Map<string, string>();
  for (const [k, v] of url.searchParams) if (!kwargs.has(k)) kwargs.set(k, v);
  const header = req.headers.authorization;
  const r = await runCommand(path.slice(base.length + 1), opts.context(), {
    method: method === 'POST' ? 'POST' : 'GET',
    kwargs,
    authorization: header,
    remoteAddress: req.socket.remoteAddress ?? '',
    peerCertificate: verifiedPeerCertificate(req.socket),
    ...(method === 'POST' ? { body: bodyReader(req) } : {}),
  });
  if (method === 'POST') await drain(req);
  await sendCommand(res, r);
}

/** Starts listening; throws ZktsError('ZKTS_ERR_LISTEN') when the address cannot be bound. */
export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if ((req.socket as Partial<TLSSocket>).encrypted === true) res.setHeader('Strict-Transport-Security', STS_HEADER);
    handle(opts, req, res).catch((e: unknown) => {
      opts.log?.('error', `admin server: ${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) send(res, 500, JSON_TYPE, writeJson({ error: 'Internal error' }));
      else res.destroy();
    });
  };
  const tls = opts.tls;
  const http: Server | null = tls?.forceHttps === true ? null : createServer(onRequest);
  const https: Server | null =
    tls === undefined ? null : createHttpsServer({ ...tls.context, requestCert: tls.needClientAuth, rejectUnauthorized: tls.needClientAuth }, onRequest);
  for (const s of [http, https]) {
    if (s === null) continue;
    s.keepAliveTimeout = opts.idleTimeoutMs;
    s.timeout = opts.idleTimeoutMs;
  }
  https?.on('tlsClientError', (e: Error, socket: TLSSocket) => {
    opts.log?.('warn', `admin server: TLS handshake failed: ${(e as Error & { reason?: string }).reason ?? e.message.trim()}`);
    socket.destroy();
  });
  // One listener: the HTTP server itself, the HTTPS one, or (port unification) a TCP server that
  // hands each connection to one of them by its first byte.
  const listener: NetServer = http === null ? https! : https === null ? http : createNetServer((socket) => unify(socket, http, https));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (e: Error) => {
      reject(new ZktsError('ZKTS_ERR_LISTEN',
        `admin server: cannot listen on ${opts.host}:${opts.port}: ${e.message}; free the port, set admin.serverPort, or set admin.enableServer=false`,
        { cause: e }));
    });
    listener.listen(opts.port, opts.host, () => resolve());
  });
  const addr = listener.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const scheme = tls === undefined ? 'http' : tls.forceHttps ? 'https' : 'http(s)';
  opts.log?.('info', `admin server on ${scheme}://${opts.host}:${port}${opts.commandUrl}`);
  return {
    host: opts.host,
    port,
    close: async () => {
      await opts.ui?.close();
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        http?.closeAllConnections();
        https?.closeAllConnections();
      });
    },
  };
}

/** admin.portUnification: TLS (first byte 0x16) to the HTTPS server, anything else to HTTP. */
function unify(socket: Socket, http: Server, https: Server): void {
  socket.on('error', () => socket.destroy());
  socket.once('data', (chunk: Buffer) => {
    socket.pause();
    socket.unshift(chunk);
    if (chunk[0] === 0x16) {
      https.emit('connection', socket); // the TLS socket reads what was put back
      return;
    }
    http.emit('connection', socket);
    socket.resume();
  });
}
