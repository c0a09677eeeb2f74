// session-secret.ts — the key of zkts's session passwords (src/server/session-passwords.ts), kept
// in the data directory so that a session survives a restart of its server: 32 random bytes in
// zkts-session-secret, mode 0600, created on first use. A secret that others can read is no
// secret, so such a file is refused rather than trusted.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ZktsError } from '../errors.js';

export const SESSION_SECRET_FILE = 'zkts-session-secret';
const SECRET_BYTES = 32;

/**
 * The server secret in `dir` (zkts-session-secret, 32 random bytes, mode 0600), created on first
 * use. Written to a temporary file, fsynced and renamed, so a crash leaves either no secret or a
 * whole one. A file that is readable by others is refused rather than trusted.
 */
export function loadSessionSecret(dir: string): Buffer {
  const path = join(dir, SESSION_SECRET_FILE);
  let secret: Buffer | undefined;
  try {
    secret = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ZktsError('ZKTS_ERR_DISK', `${path}: cannot read the session secret: ${(e as Error).message}`, { cause: e });
    }
  }
  if (secret !== undefined) {
    if ((statSync(path).mode & 0o077) !== 0) {
      throw new ZktsError('ZKTS_ERR_CONFIG', `${path}: the session secret is readable by other users; chmod 600 it (or delete it: sessions then cannot be resumed across this restart)`);
    }
    if (secret.length !== SECRET_BYTES) {
      throw new ZktsError('ZKTS_ERR_CONFIG', `${path}: holds ${secret.length} bytes, not ${SECRET_BYTES}; delete it and a new secret is made (open sessions then cannot be resumed)`);
    }
    return secret;
  }
  secret = randomBytes(SECRET_BYTES);
  const tmp = `${path}.tmp`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      chmodSync(tmp, 0o600); // an existing tmp file keeps its mode through open()
      writeSync(fd, secret);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch (e) {
    throw new ZktsError('ZKTS_ERR_DISK', `${path}: cannot write the session secret: ${(e as Error).message}; check the data directory's permissions`, { cause: e });
  }
  return secret;
}
