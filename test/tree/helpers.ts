// helpers.ts — a tiny harness: prep a request and apply it, as the server's pipeline does.
import { OpCode } from '../../src/protocol/opcodes.js';
import type { Id } from '../../src/protocol/records.js';
import type { Request } from '../../src/protocol/requests.js';
import { DataTree, type TxnResult } from '../../src/tree/data-tree.js';
import type { Txn } from '../../src/tree/txn.js';
import { defaultProviders } from '../../src/server/auth/digest.js';
import { OutstandingChanges } from '../../src/server/change-records.js';
import { Prep } from '../../src/server/prep.js';

export const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export class Harness {
  readonly tree: DataTree;
  readonly changes: OutstandingChanges;
  readonly prep: Prep;
  zxid = 0n;
  time = 1000;

  constructor(opts: { extendedTypesEnabled?: boolean; superDigest?: string; enforceQuota?: boolean; warn?: (m: string) => void } = {}) {
    this.tree = new DataTree({ extendedTypesEnabled: opts.extendedTypesEnabled });
    this.changes = new OutstandingChanges(this.tree);
    this.prep = new Prep(this.tree, this.changes, defaultProviders({ superDigest: opts.superDigest }), {
      extendedTypesEnabled: opts.extendedTypesEnabled ?? false,
      reconfigEnabled: false,
      enforceQuota: opts.enforceQuota,
      warn: opts.warn,
    });
  }

  /** Preps and applies; returns the txn and the apply result. */
  run(req: Request, sessionId = 0x1234n, authIds: Id[] = []): { txn: Txn; rc: TxnResult } {
    const zxid = ++this.zxid;
    const txn = this.prep.prep(req, { sessionId, authIds, zxid });
    const type = txn.type === OpCode.error ? OpCode.error : req.type;
    const rc = this.tree.processTxn({ clientId: sessionId, cxid: 1, zxid, time: this.time++, type }, txn);
    this.changes.applied(zxid);
    return { txn, rc };
  }

  create(path: string, opts: { flags?: number; data?: string; sessionId?: bigint; type?: number; ttl?: bigint } = {}) {
    return this.run(
      {
        type: (opts.type ?? OpCode.create) as typeof OpCode.create,
        path,
        data: Buffer.from(opts.data ?? ''),
        acl: OPEN,
        flags: opts.flags ?? 0,
        ttl: opts.ttl ?? -1n,
      },
      opts.sessionId,
    ).rc;
  }
}
