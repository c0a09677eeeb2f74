// tls-client.ts — the conformance TestClient over TLS: the same handshake (ConnectRequest, then the
// ConnectResponse frame) on a tls.connect socket, then the TestClient drives it as before. Node's
// checkServerIdentity verifies the server's certificate against the host connected to (IP SANs
// for an address; no DNS lookups), unless hostnameVerification is false.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { type ConnectResponse, decodeConnectResponse, encodeConnectRequest } from '../../src/protocol/client-codec.js';
import { FrameParser } from '../../src/protocol/frame.js';
import { JuteReader } from '../../src/protocol/jute.js';
import { type ConnectOptions, ConnectionClosedError, TestClient, withTimeout } from '../conformance/test-client.js';

export interface TlsConnectOptions extends ConnectOptions {
  /** PEM files: the CA to trust, and the client's certificate and key (none: no client certificate). */
  ca?: string;
  cert?: string;
  key?: string;
  /** Check the server certificate names the host (default true). */
  hostnameVerification?: boolean;
  /** Resolves with the server's certificate once the TLS handshake is done. */
  onSecure?: (socket: tls.TLSSocket) => void;
}

// TestClient's constructor is private to its file; this is the one other place that builds one.
type TestClientConstructor = new (socket: tls.TLSSocket, connectResponse: ConnectResponse, parser: FrameParser, leftover: Buffer[]) => TestClient;

export async function connectTls(host: string, port: number, opts: TlsConnectOptions = {}): Promise<TestClient> {
  const socket = tls.connect({
    host,
    port,
    ...(opts.ca === undefined ? {} : { ca: readFileSync(opts.ca) }),
    ...(opts.cert === undefined ? {} : { cert: readFileSync(opts.cert) }),
    ...(opts.key === undefined ? {} : { key: readFileSync(opts.key) }),
    ...(opts.hostnameVerification === false ? { checkServerIdentity: () => undefined } : {}),
  });
  socket.setNoDelay(true);
  const parser = new FrameParser();
  const frames: Buffer[] = [];
  const handshake = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      try {
        parser.push(chunk, (f) => frames.push(Buffer.from(f)));
      } catch (e) {
        reject(e as Error);
      }
      if (frames.length > 0) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new ConnectionClosedError('during the handshake')));
    socket.once('secureConnect', () => {
      opts.onSecure?.(socket);
      socket.write(
        encodeConnectRequest({
          protocolVersion: 0,
          lastZxidSeen: opts.lastZxidSeen ?? 0n,
          timeOut: opts.timeOutMs ?? 30_000,
          sessionId: opts.sessionId ?? 0n,
          passwd: opts.passwd ?? Buffer.alloc(16),
          readOnly: opts.readOnly ?? false,
        }),
      );
    });
  });
  try {
    await withTimeout(handshake, opts.timeoutMs ?? 10_000, `the ConnectResponse from ${host}:${port} over TLS`);
  } catch (e) {
    socket.destroy();
    throw e;
  }
  socket.removeAllListeners('error');
  socket.removeAllListeners('close');
  const [first, ...rest] = frames as [Buffer, ...Buffer[]];
  return new (TestClient as unknown as TestClientConstructor)(socket, decodeConnectResponse(new JuteReader(first)), parser, rest);
}
