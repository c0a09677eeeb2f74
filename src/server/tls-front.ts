// tls-front.ts — the TLS side of the client port, as NettyServerCnxnFactory does it: a listener on
// secureClientPort that speaks only TLS, and with client.portUnification the plain client port
// also taking TLS, told apart by the first byte (0x16 opens a TLS handshake; a plain frame starts
// with its length's high byte, 0 for any frame under jute.maxbuffer, and four-letter words are
// ASCII). After the handshake, as its CertificateVerifier: a client certificate is required
// (ssl.clientAuth=need), optional (want: but if one is sent it must be trusted) or not asked for
// (none); a trusted one gives the connection the x509 id of its subject, and the super id when
// it is zookeeper.X509AuthenticationProvider.superUser. Only then does the socket reach the server.
//
// Handshakes in progress count against maxClientCnxns and maxCnxns (ZooKeeper counts a channel
// when it opens) and time out after 10 s (Netty's SslHandler). The key and trust store files are
// watched; when one changes, the stores are read again and new connections use them (a store that
// fails to load is logged and the previous one kept).
import { type FSWatcher, watch } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { basename, dirname, resolve } from 'node:path';
import { type SecureContextOptions, type Server as TlsServer, type TLSSocket, createServer as createTlsServer } from 'node:tls';
import { ZktsError } from '../errors.js';
import type { Id } from '../protocol/records.js';
import { x509ClientId, x509Ids } from './auth/x509.js';
import { adminTlsSettings, type TlsSettings } from './tls-config.js';
import { loadKeyStore, loadTrustStore, type StoreSpec } from './tls-stores.js';

/** 0x16: a TLS record of type handshake, the first byte a TLS client sends. */
export const TLS_HANDSHAKE_RECORD_TYPE = 0x16;

export interface TlsHost {
  /** Hands a connection to the server, with the ids its handshake proved. */
  acceptConnection(socket: Socket, authIds?: readonly Id[]): void;
  /** The server's open connections (for maxClientCnxns / maxCnxns). */
  readonly connections: ReadonlySet<{ readonly remoteAddress: string }>;
  log(level: 'info' | 'warn' | 'error', msg: string): void;
  /** auth_failed_count and unsuccessful_handshake, counted where ZooKeeper's Netty factory counts them. */
  readonly stats?: { readonly metrics: { authFailed(): void; inc(name: 'unsuccessful_handshake'): void } };
}

export interface TlsLimits {
  maxClientCnxns: number;
  maxCnxns?: number;
}

/** Key, certificate chain and trusted CAs from the stores, as Node's TLS takes them. */
export function storeContextOptions(keyStore: StoreSpec, trustStore: StoreSpec | undefined): SecureContextOptions {
  const km = loadKeyStore(keyStore);
  const ca = trustStore === undefined ? undefined : loadTrustStore(trustStore);
  return { key: km.key.export({ format: 'pem', type: 'pkcs8' }), cert: km.certChain.join(''), ...(ca === undefined ? {} : { ca }) };
}

/** The secure context options of the client port. */
export function secureContextOptions(s: TlsSettings): SecureContextOptions {
  return { ...storeContextOptions(s.keyStore, s.trustStore), minVersion: s.minVersion, maxVersion: s.maxVersion, ciphers: s.ciphers };
}

/** An address as a certificate's IP entries hold it: IPv4-mapped IPv6 as the IPv4 address. */
function plainIp(remoteAddress: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  return m === null ? remoteAddress : m[1]!;
}

export class TlsFront {
  private readonly tls: TlsServer;
  private secure: NetServer | null = null;
  private readonly pending = new Set<Socket>();
  private readonly watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | null = null;
  private contextKey: string;
  private closed = false;
  /** The secure port's address once listening. */
  address: { host: string; port: number } | null = null;
  /** How many times the stores were read again after a change (for tests and logs). */
  reloads = 0;

  constructor(
    private readonly host: TlsHost,
    readonly settings: TlsSettings,
    private readonly limits: TlsLimits,
  ) {
    const context = secureContextOptions(settings);
    this.contextKey = contextKey(context);
    this.tls = createTlsServer({
      ...context,
      requestCert: settings.clientAuth !== 'none',
      // Trust is decided in onSecure, so that every refusal is logged with its reason.
      rejectUnauthorized: false,
      handshakeTimeout: settings.handshakeTimeoutMs,
    });
    this.tls.on('secureConnection', (socket: TLSSocket) => this.onSecure(socket));
    this.tls.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      const reason = (err as Error & { reason?: string }).reason ?? err.message.trim();
      this.host.log('warn', `TLS handshake with ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'} failed: ${reason}`);
      this.host.stats?.metrics.authFailed();
      this.host.stats?.metrics.inc('unsuccessful_handshake');
      socket.destroy(); // Node leaves a server socket open on a handshake timeout
    });
  }

  /** Starts watching the stores and listens on secureClientPort when it is set; its address, or null. */
  async listen(): Promise<{ host: string; port: number } | null> {
    this.watchStores();
    const port = this.settings.secureClientPort;
    if (port === undefined) return null;
    const secure = createNetServer((socket) => this.admit(socket, true));
    this.secure = secure;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        this.secure = null;
        reject(new ZktsError('ZKTS_ERR_LISTEN', `cannot listen for TLS clients on ${this.settings.secureHost}:${port}: ${e.message}; free the port or set secureClientPort`, { cause: e }));
      };
      secure.once('error', onError);
      secure.listen(port, this.settings.secureHost, () => {
        secure.off('error', onError);
        resolve();
      });
    });
    const addr = secure.address();
    this.address = { host: this.settings.secureHost, port: typeof addr === 'object' && addr !== null ? addr.port : port };
    this.host.log('info', `zkts serving TLS clients on ${this.address.host}:${this.address.port}`);
    return this.address;
  }

  /** client.portUnification: a socket of the plain client port, TLS or not by its first byte. */
  unify(socket: Socket): void {
    this.admit(socket, false);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reloadTimer !== null) clearTimeout(this.reloadTimer);
    for (const w of this.watchers.splice(0)) w.close();
    for (const s of [...this.pending]) s.destroy();
    this.pending.clear();
    const secure = this.secure;
    this.secure = null;
    if (secure !== null) await new Promise<void>((resolve) => secure.close(() => resolve()));
  }

  /** Reads the stores again; true when they changed and new connections now use them. */
  reload(): boolean {
    let context: SecureContextOptions;
    try {
      context = secureContextOptions(this.settings);
    } catch (e) {
      this.host.log('error', `TLS key or trust store not reloaded, keeping the previous one: ${(e as Error).message}`);
      return false;
    }
    const key = contextKey(context);
    if (key === this.contextKey) return false;
    this.tls.setSecureContext(context);
    this.contextKey = key;
    this.reloads++;
    this.host.log('info', 'TLS key and trust stores reloaded; new connections use them');
    return true;
  }

  // --- connections -------------------------------------------------------------------------

  private admit(socket: Socket, tlsOnly: boolean): void {
    const ip = socket.remoteAddress ?? '';
    const maxCnxns = this.limits.maxCnxns ?? 0;
    if (maxCnxns > 0 && this.host.connections.size + this.pending.size >= maxCnxns) {
      this.host.log('warn', `Too many connections - max is ${maxCnxns}`);
      socket.destroy();
      return;
    }
    if (this.limits.maxClientCnxns > 0) {
      let n = 0;
      for (const c of this.host.connections) if (c.remoteAddress === ip) n++;
      for (const s of this.pending) if (s.remoteAddress === ip) n++;
      if (n >= this.limits.maxClientCnxns) {
        this.host.log('warn', `Too many connections from ${ip} - max is ${this.limits.maxClientCnxns}`);
        socket.destroy();
        return;
      }
    }
    this.pending.add(socket);
    socket.once('close', () => this.pending.delete(socket));
    const onError = (): void => {
      socket.destroy();
    };
    socket.on('error', onError);
    if (tlsOnly) {
      this.tls.emit('connection', socket);
      return;
    }
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_RECORD_TYPE) {
        this.tls.emit('connection', socket);
        return;
      }
      this.pending.delete(socket);
      socket.off('error', onError);
      this.host.acceptConnection(socket);
      socket.resume();
    });
  }

  private onSecure(socket: TLSSocket): void {
    const raw = [...this.pending].find((s) => s.remotePort === socket.remotePort && s.remoteAddress === socket.remoteAddress);
    if (raw !== undefined) this.pending.delete(raw);
    const who = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const refuse = (why: string): void => {
      this.host.log('warn', `TLS connection from ${who} refused: ${why}`);
      this.host.stats?.metrics.authFailed();
      socket.destroy();
    };
    if (this.closed) {
      socket.destroy();
      return;
    }
    let ids: Id[] = [];
    if (this.settings.clientAuth !== 'none') {
      const cert = socket.getPeerX509Certificate();
      if (cert === undefined) {
        if (this.settings.clientAuth === 'need') return refuse('no client certificate (ssl.clientAuth=need)');
      } else {
        if (!socket.authorized) return refuse(`client certificate not trusted: ${String(socket.authorizationError)}`);
        if (this.settings.verifyClientAddress && cert.checkIP(plainIp(socket.remoteAddress ?? '')) === undefined) {
          return refuse(`client certificate does not name ${plainIp(socket.remoteAddress ?? '')} (ssl.clientHostnameVerification)`);
        }
        let clientId: string;
        try {
          clientId = x509ClientId(cert.raw);
        } catch (e) {
          return refuse(`client certificate subject cannot be read: ${(e as Error).message}`);
        }
        ids = x509Ids(clientId, { superUser: this.settings.superUser });
      }
    }
    socket.on('error', () => socket.destroy());
    this.host.acceptConnection(socket, ids);
  }

  // --- reload ------------------------------------------------------------------------------

  private watchStores(): void {
    const files = [this.settings.keyStore.location, this.settings.trustStore?.location].filter((f): f is string => f !== undefined).map((f) => resolve(f));
    const byDir = new Map<string, Set<string>>();
    for (const f of files) {
      const dir = dirname(f);
      if (!byDir.has(dir)) byDir.set(dir, new Set());
      byDir.get(dir)!.add(basename(f));
    }
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || names.has(name.toString())) this.scheduleReload();
        });
        w.on('error', (e) => this.host.log('warn', `watching ${dir} for TLS store changes stopped: ${e.message}`));
        this.watchers.push(w);
      } catch (e) {
        this.host.log('warn', `cannot watch ${dir} for TLS store changes (stores will not reload): ${(e as Error).message}`);
      }
    }
  }

  /** Files are often written in several steps: read them once they have been quiet for a moment. */
  private scheduleReload(): void {
    if (this.closed) return;
    if (this.reloadTimer !== null) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      this.reload();
    }, 100);
    this.reloadTimer.unref();
  }
}

function contextKey(c: SecureContextOptions): string {
  return JSON.stringify([c.key, c.cert, c.ca]);
}

/** The AdminServer's HTTPS options (admin.forceHttps / admin.portUnification), or undefined for HTTP. */
export function adminTlsOptions(properties: ReadonlyMap<string, string>): { context: SecureContextOptions; forceHttps: boolean; needClientAuth: boolean } | undefined {
  const s = adminTlsSettings(properties);
  if (s === undefined) return undefined;
  const context = { ...storeContextOptions(s.keyStore, s.trustStore), minVersion: s.minVersion, maxVersion: s.maxVersion };
  return { context, forceHttps: s.forceHttps, needClientAuth: s.needClientAuth };
}
