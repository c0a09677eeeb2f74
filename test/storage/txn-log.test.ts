// txn-log.test.ts — the log writer and reader on a real directory: what is acknowledged reads
// back; one fsync covers everything that arrived while the previous one ran; a torn tail at any
// offset recovers to a prefix; a flipped bit in a whole record is refused naming file and offset;
// a full disk fails its batch only, and the writer goes on once space returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, existsSync, readFileSync, readdirSync, readlinkSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpCode } from '../../src/protocol/opcodes.js';
import type { Txn, TxnHeader } from '../../src/tree/txn.js';
import { ZktsError } from '../../src/errors.js';
import { lastLoggedZxid, readTxnLog, type LogTail } from '../../src/storage/txn-log-reader.js';
import { TxnLogWriter, ZERO_AHEAD_BYTES, nodeLogFs, paddedFileSize, type LogFileHandle, type LogFs } from '../../src/storage/txn-log.js';
import { tempDir } from './helpers.js';

function step(zxid: number, size = 10): { hdr: TxnHeader; txn: Txn } {
  return {
    hdr: { clientId: 0x1234n, cxid: zxid, zxid: BigInt(zxid), time: 1000 + zxid, type: OpCode.setData },
    txn: { type: OpCode.setData, path: `/n${zxid}`, data: Buffer.alloc(size, zxid & 0xff), version: zxid },
  };
}

function appendAll(w: TxnLogWriter, from: number, to: number): Promise<(Error | null)[]> {
  const out: Promise<Error | null>[] = [];
  for (let z = from; z <= to; z++) {
    const { hdr, txn } = step(z);
    out.push(new Promise((resolve) => w.append(hdr, txn, resolve)));
  }
  return Promise.all(out);
}

function zxids(dir: string, from = 0n, onTail?: (t: LogTail) => void): number[] {
  return [...readTxnLog(dir, from, { onTail })].map((r) => Number(r.hdr.zxid));
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** Real files, with failures and slow fsyncs on demand. */
class FaultyFs implements LogFs {
  failWrites: string | null = null;
  failSyncs: string | null = null;
  syncs = 0;
  writes = 0;
  gate: Promise<void> | null = null;
  onSync: (() => void) | null = null;

  async create(path: string): Promise<LogFileHandle> {
    const h = await nodeLogFs.create(path);
    const fail = (code: string): Error => Object.assign(new Error(`${code}: injected`), { code });
    const handle: LogFileHandle = {
      write: async (buf, pos) => {
        this.writes++;
        if (this.failWrites) {
          await h.write(buf.subarray(0, buf.length >> 1), pos); // a partial write before the error
          throw fail(this.failWrites);
        }
        return h.write(buf, pos);
      },
      datasync: async () => {
        this.syncs++;
        this.onSync?.();
        if (this.gate) await this.gate;
        if (this.failSyncs) throw fail(this.failSyncs);
        return h.datasync();
      },
      // the write, then its datasync: each fails as injected
      writeDurable: async (bufs, pos) => {
        await handle.write(Buffer.concat(bufs), pos);
        await handle.datasync();
      },
      sync: () => h.sync(),
      truncate: (len) => h.truncate(len),
      close: () => h.close(),
    };
    return handle;
  }
  remove(path: string): Promise<void> {
    return nodeLogFs.remove(path);
  }
  syncDir(dir: string): Promise<void> {
    return nodeLogFs.syncDir(dir);
  }
}

test('appended txns read back in order, across a roll, from any zxid', async (t) => {
  const dir = tempDir(t);
  const w = new TxnLogWriter({ dir, preAllocBytes: 4096 });
  assert.deepEqual(await appendAll(w, 1, 50), Array(50).fill(null));
  w.roll();
  assert.deepEqual(await appendAll(w, 51, 60), Array(10).fill(null));
  await w.close();
  assert.deepEqual(readdirSync(dir).sort(), ['log.1', 'log.33']);
  assert.deepEqual(zxids(dir), range(1, 60));
  assert.deepEqual(zxids(dir, 40n), range(40, 60));
  assert.deepEqual(zxids(dir, 55n), range(55, 60));
  assert.equal(lastLoggedZxid(dir), 60n);
  assert.equal(lastLoggedZxid(tempDir(t)), null);
  const recs = [...readTxnLog(dir, 7n)];
  assert.deepEqual(recs[0]!.txn, step(7).txn);
  assert.deepEqual(recs[0]!.hdr, step(7).hdr);
});

test('files are preallocated in preAllocSize steps and the zero fill ends the log', async (t) => {
  const dir = tempDir(t);
  const w = new TxnLogWriter({ dir, preAllocBytes: 4096 });
  await appendAll(w, 1, 3);
  await w.close();
  assert.equal(statSync(join(dir, 'log.1')).size, 4096);
  let tail: LogTail | null = null;
  assert.deepEqual(zxids(dir, 0n, (x) => (tail = x)), [1, 2, 3]);
  assert.equal(tail!.tornTail, false);
  // FilePadding.calculateFileSizeWithPadding: grow once within 4 KiB of the end.
  assert.equal(paddedFileSize(10, 65536, 65536), 65536);
  assert.equal(paddedFileSize(62000, 65536, 65536), 131072);
  assert.equal(paddedFileSize(140000, 65536, 65536), 196608);
  assert.equal(paddedFileSize(9000, 4096, 0), 4096);
});

test('group commit: appends that arrive during an fsync share the next one; done waits for it', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultyFs();
  let open!: () => void;
  fs.gate = new Promise((r) => (open = r));
  const w = new TxnLogWriter({ dir, fs, preAllocBytes: 1 << 20 });
  const acked: number[] = [];
  const inSync = new Promise<void>((r) => (fs.onSync = r));
  const first = step(1);
  w.append(first.hdr, first.txn, () => acked.push(1));
  await inSync; // the first batch is now held in its fsync
  for (let z = 2; z <= 200; z++) {
    const s = step(z);
    w.append(s.hdr, s.txn, () => acked.push(z));
  }
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(fs.syncs, 1, 'no second write starts while the first fsync runs');
  assert.deepEqual(acked, [], 'nothing is acknowledged before its fsync returns');
  open();
  await w.flushed();
  assert.deepEqual(acked, range(1, 200));
  assert.equal(w.stats.batches, 2);
  assert.equal(w.stats.maxBatchTxns, 199);
  assert.equal(fs.syncs, 2);
  await w.close();
  assert.deepEqual(zxids(dir), range(1, 200));
});

test('forceSync=no never fsyncs and says so', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultyFs();
  const logs: string[] = [];
  const w = new TxnLogWriter({ dir, fs, forceSync: false, log: (_l, m) => logs.push(m) });
  await appendAll(w, 1, 10);
  await w.close();
  assert.equal(fs.syncs, 0);
  assert.ok(logs.some((m) => m.includes('forceSync=no')));
  assert.deepEqual(zxids(dir), range(1, 10));
});

/** The open flags of this process's descriptors for `file` (from /proc/self/fdinfo). */
function openFlags(file: string): number[] {
  const out: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== file) continue;
    const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (m) out.push(parseInt(m[1]!, 8));
  }
  return out;
}

test('a batch is written through an O_DSYNC descriptor with forceSync, never without it', { skip: !existsSync('/proc/self/fdinfo') }, async (t) => {
  for (const forceSync of [true, false]) {
    const dir = tempDir(t);
    const w = new TxnLogWriter({ dir, forceSync, log: () => {} });
    assert.deepEqual(await appendAll(w, 1, 3), [null, null, null]);
    const dsync = openFlags(w.currentFile!).filter((f) => (f & constants.O_DSYNC) === constants.O_DSYNC);
    assert.equal(dsync.length, forceSync ? 1 : 0, `forceSync=${forceSync}`);
    await w.close();
    assert.deepEqual(zxids(dir), range(1, 3));
  }
});

test('with forceSync the preallocated file is written with zeros ahead of the txns, not left a hole there', async (t) => {
  const dir = tempDir(t);
  const w = new TxnLogWriter({ dir, preAllocBytes: 4 * ZERO_AHEAD_BYTES });
  t.after(() => w.close());
  let end = 16; // the file header
  let zeroedTo = end;
  for (let z = 1; z <= 40; z++) {
    // one at a time: each txn is its own batch; the txns reach well past the first zeros
    const s = step(z, z <= 3 ? 10 : ZERO_AHEAD_BYTES / 32);
    assert.equal(await new Promise((resolve) => (end += w.append(s.hdr, s.txn, resolve))), null);
    // a batch that reaches past the zeros writes the next ZERO_AHEAD_BYTES of them
    if (end > zeroedTo) zeroedTo = Math.min(end + ZERO_AHEAD_BYTES, 4 * ZERO_AHEAD_BYTES);
    const st = statSync(w.currentFile!);
    assert.equal(st.size, 4 * ZERO_AHEAD_BYTES, 'the zeros stay inside the preallocated size');
    assert.ok(st.blocks * 512 >= zeroedTo - 4096, `txn ${z}: ${st.blocks} blocks allocated, txns end at ${end}, zeros at ${zeroedTo}`);
  }
  assert.ok(end > ZERO_AHEAD_BYTES, 'the txns went past the first zeros');
  await w.close();
  assert.deepEqual(zxids(dir), range(1, 40));
});

test('a torn last record, cut or zero-filled at any offset, reads as the end of the log', async (t) => {
  const dir = tempDir(t);
  const w = new TxnLogWriter({ dir, preAllocBytes: 0 });
  await appendAll(w, 1, 5);
  await w.close();
  const file = join(dir, 'log.1');
  const whole = readFileSync(file);
  const last = [...readTxnLog(dir, 0n)][4]!;
  for (let cut = last.offset; cut < last.offset + last.entryBytes; cut++) {
    writeFileSync(file, whole.subarray(0, cut));
    let tail: LogTail | null = null;
    assert.deepEqual(zxids(dir, 0n, (x) => (tail = x)), [1, 2, 3, 4], `cut at ${cut}`);
    assert.equal(tail!.validEnd, last.offset);
    assert.equal(tail!.tornTail, cut > last.offset, `cut at ${cut}`);
    const zeroed = Buffer.from(whole);
    zeroed.fill(0, cut);
    writeFileSync(file, Buffer.concat([zeroed, Buffer.alloc(100)]));
    assert.deepEqual(zxids(dir), [1, 2, 3, 4], `zero fill from ${cut}`);
  }
});

test('a flipped bit in a whole record is refused, naming the file and the offset', async (t) => {
  const dir = tempDir(t);
  const w = new TxnLogWriter({ dir, preAllocBytes: 4096 });
  await appendAll(w, 1, 5);
  await w.close();
  const file = join(dir, 'log.1');
  const whole = readFileSync(file);
  const victim = [...readTxnLog(dir, 0n)][2]!;
  // The checksum (8 bytes) and the txn bytes; the length and the 'B' frame the record instead.
  const spots = [...range(victim.offset, victim.offset + 7), ...range(victim.offset + 12, victim.offset + victim.entryBytes - 2)];
  for (const at of spots) {
    for (const bit of [0, 7]) {
      const bad = Buffer.from(whole);
      bad[at]! ^= 1 << bit;
      writeFileSync(file, bad);
      assert.throws(
        () => zxids(dir),
        (e: unknown) => e instanceof ZktsError && e.code === 'ZKTS_ERR_DISK' && e.message.includes(file) && e.message.includes(`offset ${victim.offset}`),
        `bit ${bit} of byte ${at}`,
      );
    }
  }
  const bad = Buffer.from(whole);
  bad.writeInt32BE(-5, victim.offset + 8);
  writeFileSync(file, bad);
  assert.throws(() => zxids(dir), /unreasonable entry length -5/);
});

test('a bad file header is refused; a header-less newest log is reported, not read', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'log.1'), Buffer.from('not a zookeeper log at all'));
  assert.throws(() => zxids(dir), (e: unknown) => e instanceof ZktsError && /bad file header/.test(e.message));
  writeFileSync(join(dir, 'log.1'), Buffer.alloc(100));
  let tail: LogTail | null = null;
  assert.deepEqual(zxids(dir, 0n, (x) => (tail = x)), []);
  assert.equal(tail!.headerless, true);
});

for (const failure of [
  { what: 'ENOSPC on write', set: (fs: FaultyFs, v: string | null) => (fs.failWrites = v && 'ENOSPC') },
  { what: 'EIO on fsync', set: (fs: FaultyFs, v: string | null) => (fs.failSyncs = v && 'EIO') },
]) {
  test(`${failure.what}: the whole batch fails, nothing of it is acknowledged, and the log goes on after`, async (t) => {
    const dir = tempDir(t);
    const fs = new FaultyFs();
    const logs: string[] = [];
    const w = new TxnLogWriter({ dir, fs, preAllocBytes: 4096, log: (_l, m) => logs.push(m) });
    assert.deepEqual(await appendAll(w, 1, 10), Array(10).fill(null));
    failure.set(fs, 'on');
    const failed = await appendAll(w, 11, 20);
    for (const e of failed) assert.ok(e instanceof ZktsError && e.code === 'ZKTS_ERR_DISK', String(e));
    assert.ok(logs.some((m) => m.includes('0xb..0x14')), logs.join('\n'));
    failure.set(fs, null);
    assert.deepEqual(await appendAll(w, 21, 30), Array(10).fill(null));
    await w.close();
    assert.deepEqual(zxids(dir), [...range(1, 10), ...range(21, 30)]);
    assert.equal(w.stats.failedBatches, 1);
  });
}

test('txns appended while a failing batch is being written fail with it, unwritten (they were prepped on top of it)', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultyFs();
  const w = new TxnLogWriter({ dir, fs, preAllocBytes: 4096, log: () => {} });
  assert.deepEqual(await appendAll(w, 1, 10), Array(10).fill(null));
  let release!: () => void;
  fs.gate = new Promise((r) => (release = r));
  let syncing!: () => void;
  const inSync = new Promise<void>((r) => (syncing = r));
  fs.onSync = syncing;
  fs.failSyncs = 'EIO';
  // The disk recovers as soon as the failure is reported, before anything else is written.
  const healed = new Promise<Error | null>((resolve) =>
    w.append(step(11).hdr, step(11).txn, (e) => {
      fs.failSyncs = null;
      resolve(e);
    }),
  );
  const first = appendAll(w, 12, 15);
  await inSync; // 11..15 are being written; these arrive meanwhile
  const second = appendAll(w, 16, 20);
  fs.gate = null;
  fs.onSync = null;
  release();
  for (const e of [await healed, ...(await first), ...(await second)]) assert.ok(e instanceof ZktsError && e.code === 'ZKTS_ERR_DISK', String(e));
  assert.deepEqual(await appendAll(w, 21, 25), Array(5).fill(null));
  await w.close();
  assert.deepEqual(zxids(dir), [...range(1, 10), ...range(21, 25)]);
});

test('a log file whose header could not be written is replaced, never left in the way', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultyFs();
  const w = new TxnLogWriter({ dir, fs, preAllocBytes: 4096 });
  fs.failWrites = 'ENOSPC';
  const failed = await appendAll(w, 1, 3);
  assert.ok(failed.every((e) => e instanceof ZktsError));
  fs.failWrites = null;
  assert.deepEqual(await appendAll(w, 4, 6), [null, null, null]);
  await w.close();
  assert.deepEqual(readdirSync(dir), ['log.4']);
  assert.deepEqual(zxids(dir), [4, 5, 6]);
});

test('appends after close fail at once', async (t) => {
  const dir = tempDir(t);
  const w = new TxnLogWriter({ dir });
  await w.close();
  const [err] = await appendAll(w, 1, 1);
  assert.ok(err instanceof ZktsError && /closed/.test(err.message));
});

test('the reader tolerates a partial record in an older file and goes on with the next', async (t) => {
  const dir = tempDir(t);
  const w = new TxnLogWriter({ dir, preAllocBytes: 0 });
  await appendAll(w, 1, 5);
  w.roll();
  await appendAll(w, 6, 8);
  await w.close();
  const first = join(dir, 'log.1');
  truncateSync(first, statSync(first).size - 3);
  assert.deepEqual(zxids(dir), [1, 2, 3, 4, 6, 7, 8]);
});
