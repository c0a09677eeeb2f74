// txn-log-source.ts — the txn log (src/storage, ZooKeeper's log.<zxid> files) as a source of past
// txns for change listeners that resume from a cursor or catch up after overflowing their queue.
// One iterator stays open between reads, so a long catch-up reads each file once; a read from
// any other zxid, or past where the open iterator ended, starts a fresh one.
import { OpCode } from '../protocol/opcodes.js';
import type { Txn, TxnHeader } from '../tree/txn.js';
import { versionDir } from '../storage/data-files.js';
import type { LoggedTxn } from '../storage/txn-codec.js';
import { type LogRecord, readTxnLog } from '../storage/txn-log-reader.js';
import type { TxnSource } from './change-listeners.js';

/** Past txns from the logs of a dataLogDir (the directory that holds version-2/). */
export function txnLogSource(dataLogDir: string, opts: { maxTxnBytes?: number } = {}): TxnSource {
  const dir = versionDir(dataLogDir);
  let it: Generator<LogRecord> | null = null;
  let itNext = -1n;
  return {
    read(from, max) {
      if (it === null || from !== itNext) {
        it?.return(undefined);
        it = readTxnLog(dir, from, opts);
      }
      const out: Array<{ hdr: TxnHeader; txn: Txn }> = [];
      while (out.length < max) {
        const n = it.next();
        if (n.done === true) {
          it = null;
          break;
        }
        out.push({ hdr: n.value.hdr, txn: resolved(n.value.txn) });
      }
      const last = out[out.length - 1];
      itNext = last === undefined ? -1n : last.hdr.zxid + 1n;
      return out;
    },
  };
}

/** A body-less closeSession (older ZooKeeper) reads as one that names no paths. */
function resolved(txn: LoggedTxn): Txn {
  if (txn.type === OpCode.closeSession && txn.paths2Delete === null) return { type: OpCode.closeSession, paths2Delete: [] };
  return txn as Txn;
}
