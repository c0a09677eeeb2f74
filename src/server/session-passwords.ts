// session-passwords.ts — the 16-byte password a session is resumed with.
// ZooKeeper derives it from java.util.Random(sessionId ^ 0xB3415C00): anyone who sees a session id
// (it is printed by `cons`, `wchs`, logs and ephemeralOwner) can compute it and take the session
// over. zkts keeps that algorithm only for ensembles shared with Apache ZooKeeper servers, which
// must all derive the same bytes ('java'); otherwise ('secret') the password is
// HMAC-SHA256(server secret, sessionId) cut to 16 bytes. The secret is random and kept in the data
// directory (file mode 0600) so that sessions survive a restart; a server without a data directory
// draws one per process. The secret's file: src/storage/session-secret.ts.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ZktsError } from '../errors.js';
import { sessionPassword as javaSessionPassword } from './java-random.js';

/** 'java': ZooKeeper's derivable password, for mixed ensembles; 'secret': HMAC with a server secret. */
export type SessionPasswordMode = 'java' | 'secret';

const SECRET_BYTES = 32;
const PASSWORD_BYTES = 16;

export class SessionPasswords {
  private readonly secret: Buffer | null;

  constructor(
    readonly mode: SessionPasswordMode,
    /** The server secret ('secret' mode); a fresh random one when not given. */
    secret?: Buffer,
  ) {
    if (mode === 'java') {
      this.secret = null;
      return;
    }
    if (secret !== undefined && secret.length < 16) {
      throw new ZktsError('ZKTS_ERR_CONFIG', `the session secret has ${secret.length} bytes; it needs at least 16`);
    }
    this.secret = secret ?? randomBytes(SECRET_BYTES);
  }

  /** The password of `sessionId`, as sent in its ConnectResponse. */
  password(sessionId: bigint): Buffer {
    if (this.secret === null) return javaSessionPassword(sessionId);
    const id = Buffer.alloc(8);
    id.writeBigInt64BE(BigInt.asIntN(64, sessionId));
    return createHmac('sha256', this.secret).update(id).digest().subarray(0, PASSWORD_BYTES);
  }

  /** Whether `passwd` is the password of `sessionId` (compared in constant time). */
  verify(sessionId: bigint, passwd: Uint8Array): boolean {
    const expected = this.password(sessionId);
    return passwd.length === expected.length && timingSafeEqual(expected, passwd);
  }
}
