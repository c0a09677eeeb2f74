// tls-client.ts — the conformance TestClient over TLS: the same handshake (ConnectRequest, then the
// ConnectResponse frame) on a tls.connect socket, then the TestClient drives it as before. Node's
// checkServerIdentity verifies the server's certificate against the host connected to (IP SANs
// for an address; no DNS lookups), unless hostnameVerification is false.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { type ConnectOptions, TestClient } from '../conformance/test-client.js';

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

export async function connectTls(host: string, port: number, opts: TlsConnectOptions = {}): Promise<TestClient> {
  const socket = tls.connect({
    host,
    port,
    ...(opts.ca === undefined ? {} : { ca: readFileSync(opts.ca) }),
    ...(opts.cert === undefined ? {} : { cert: readFileSync(opts.cert) }),
    ...(opts.key === undefined ? {} : { key: readFileSync(opts.key) }),
    ...(opts.hostnameVerification === false ? { checkServerIdentity: () => undefined } : {}),
  });
  if (opts.onSecure !== undefined) socket.once('secureConnect', () => opts.onSecure!(socket));
  return TestClient.handshake(socket, 'secureConnect', `${host}:${port} over TLS`, opts);
}
