// audit-log.ts — an audit trail of every change, as JSON lines: who (session, authenticated ids,
// address), what (operation, path), when (txn time, zxid) and how it ended (OK or the code a
// refused write got). Built on a change listener with a cursor: at start it reads the zxid of the
// last line already in the file and the server replays everything after it from the txn log, so
// a restart neither loses nor repeats lines (replayed lines carry "replayed": true and no "ids",
// which only the live stream knows).
//
//   plugin.3=./examples/plugins/audit-log.ts
//   plugin.3.file=/var/log/zkts/audit.jsonl
//   plugin.3.fsync=false
//
// In your own plugin, import from 'zkts/plugin'.
import { open, type FileHandle } from 'node:fs/promises';
import { definePlugin, option } from '../../src/plugin/index.js';
import { changeRecords } from './txn-json.js';

const TAIL_BYTES = 64 * 1024;

/** The zxid of the last whole line of an audit file, or 0 when there is none. */
export async function lastAuditedZxid(file: string): Promise<bigint> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0n;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n');
    lines.pop(); // after the last newline: empty, or a line cut short by a crash
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const rec = JSON.parse(lines[i]!) as { zxid?: string };
        if (typeof rec.zxid === 'string') return BigInt(rec.zxid);
      } catch {
        // the first line of the window may be a partial one
      }
    }
    return 0n;
  } finally {
    await fh.close();
  }
}

export default definePlugin({
  name: 'audit-log',
  version: '1.0.0',
  options: {
    file: option.string({ description: 'the JSON-lines file to append to' }),
    fsync: option.boolean({ default: false, description: 'fsync after each txn' }),
    includeData: option.boolean({ default: false, description: 'include znode data (base64)' }),
    queue: option.integer({ default: 10_000, min: 1 }),
  },
  async setup(ctx) {
    const { file, fsync, includeData, queue } = ctx.options;
    const fh = await open(file, 'a');
    let cut = false; // a crash may have left a partial last line: start ours on a new one
    const { size } = await fh.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      const rh = await open(file, 'r');
      await rh.read(last, 0, 1, size - 1);
      await rh.close();
      cut = last[0] !== 0x0a;
    }
    ctx.changeListener({
      queue,
      cursor: () => lastAuditedZxid(file),
      async onTxn(hdr, txn, result, info) {
        const lines = changeRecords(hdr, txn, result, info, includeData).map((r) => JSON.stringify(r) + '\n');
        const text = (cut ? '\n' : '') + lines.join('');
        cut = false;
        await fh.write(text);
        if (fsync) await fh.sync();
      },
    });
    ctx.onStop(() => fh.close());
  },
});
