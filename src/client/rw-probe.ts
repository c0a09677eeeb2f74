// rw-probe.ts — asks a server whether it is read-write with the "isro" four-letter word, as
// ZooKeeper's client does while it sits on a read-only server. Any failure reads as "not rw".
// Over TLS when the session is (a secure port answers four-letter words inside TLS).
import net from 'node:net';
import tls from 'node:tls';
import type { HostPort } from './connect-string.js';

export function probeReadWrite(h: HostPort, timeoutMs: number, tlsOptions?: tls.ConnectionOptions): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const secure = tlsOptions !== undefined;
    const socket = secure ? tls.connect({ ...tlsOptions, host: h.host, port: h.port }) : net.connect({ host: h.host, port: h.port });
    let settled = false;
    const done = (rw: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(rw);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('latin1');
    socket.on(secure ? 'secureConnect' : 'connect', () => socket.write('isro'));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 16) done(false);
    });
    // The answer is "rw" or "ro", newline or not; the server closes after it.
    socket.on('end', () => done(text.trim() === 'rw'));
    socket.on('close', () => done(text.trim() === 'rw'));
    socket.on('error', () => done(false));
  });
}
