// power-sim-disk.ts — a simulated disk under a data directory, for crash and power-loss tests.
//
// Every change zkts makes to files in the directory is seen here and kept in a model of what a
// real disk would hold: per file (inode) the bytes written so far ("live", what a process crash
// leaves, since the page cache survives it) and the bytes as of its last fsync ("durable"); per
// directory the names as of its last fsync plus the create/rename/unlink operations since, in
// order. The txn log goes through the LogFs interface that TxnLogWriter takes for exactly this.
// Snapshot files and recovery's own file operations go through node:fs and node:fs/promises,
// which src/storage imports directly; no seam exists for them, so `install()` wraps those
// functions for paths under the directory (module.syncBuiltinESMExports makes the ES module
// bindings follow) and leaves every other path alone. Anything under the directory changed by a
// function not modelled here is caught by a consistency check at the moment of failure.
//
// A failure ("kill") is injected at the n-th operation of chosen kinds (log write, log fsync,
// snapshot write, snapshot fsync, rename, directory fsync, …) or at any moment by `fail()`. At
// that instant the image of the disk is written to a fresh directory and every later operation
// throws, as on a machine that is gone:
// - crash: the image holds every byte written (a write in progress lands a random prefix);
// - power: the image holds durable bytes, plus, per the tear mode, part of the unsynced ones in
//   512-byte sectors ('none': nothing; 'prefix': the first few sectors, as written back in order;
//   'scatter': any subset, as written back out of order); of the directory operations since the
//   last directory fsync, a random prefix survives (a journal commits them in order).
// Recovery then runs on the image, which is the directory as the machine would find it.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { LogFileHandle, LogFs } from '../../src/storage/txn-log.js';

const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof import('node:fs');
type OpenMode = import('node:fs').OpenMode;
const fsp = require('node:fs/promises') as typeof import('node:fs/promises');

/** The unpatched functions, for the disk's own real I/O and for everyone outside the directory. */
const real = {
  open: fsp.open,
  rename: fsp.rename,
  unlink: fsp.unlink,
  openSync: fs.openSync,
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  unlinkSync: fs.unlinkSync,
  truncateSync: fs.truncateSync,
  renameSync: fs.renameSync,
  readFileSync: fs.readFileSync,
  readdirSync: fs.readdirSync,
  statSync: fs.statSync,
  writeFileSync: fs.writeFileSync,
  writeSync: fs.writeSync,
  mkdirSync: fs.mkdirSync,
};

export type OpKind =
  | 'log-create'
  | 'log-write'
  | 'log-sync'
  | 'log-truncate'
  | 'log-remove'
  | 'snap-open'
  | 'snap-write'
  | 'snap-sync'
  | 'rename'
  | 'unlink'
  | 'truncate'
  | 'file-sync'
  | 'dir-sync';

export type FailureMode = 'crash' | 'power';
export type TearMode = 'none' | 'prefix' | 'scatter';

export interface KillPlan {
  mode: FailureMode;
  tear: TearMode;
  /** Fail at the nth (1-based) operation of one of these kinds; no kinds: only by fail(). */
  kinds: readonly OpKind[];
  nth: number;
}

const SECTOR = 512;

interface Inode {
  id: number;
  live: Buffer;
  durable: Buffer | null;
  /** An operation on it has started and not finished (its real file may be ahead of the model). */
  busy: number;
}

type DirOp = { op: 'link'; name: string; ino: number } | { op: 'unlink'; name: string };

interface Dir {
  live: Map<string, number>;
  durable: Map<string, number>;
  pending: DirOp[];
}

export class MachineGone extends Error {
  readonly code = 'EIO';
  constructor(what: string) {
    super(`EIO: ${what}: the simulated machine is down`);
    this.name = 'MachineGone';
  }
}

export interface Failure {
  /** The operation at which it happened ("fail()" when called directly). */
  at: string;
  mode: FailureMode;
  /** The directory as the machine would find it: `<image>/version-2/…`. */
  image: string;
}

/** The disk under one data directory (dataDir = dataLogDir). */
export class SimDisk {
  private readonly inodes = new Map<number, Inode>();
  private readonly dirs = new Map<string, Dir>();
  private nextIno = 1;
  private counts = 0;
  private readonly dirFds = new Map<number, string>();
  failure: Failure | null = null;
  /** What the model found wrong with itself (a test must fail on any). */
  readonly defects: string[] = [];
  /** Operations seen, by kind, for the test's own accounting. */
  readonly seen = new Map<OpKind, number>();

  constructor(
    /** The data directory; files live in `<root>/version-2`. */
    readonly root: string,
    private readonly plan: KillPlan,
    private readonly rnd: () => number,
    /** Where the image is written when the machine fails. */
    private readonly imageRoot: string,
  ) {
    this.root = resolve(root);
    this.scan();
  }

  get dead(): boolean {
    return this.failure !== null;
  }

  /** Everything already in the directory is on disk for good. */
  private scan(): void {
    const v2 = join(this.root, 'version-2');
    real.mkdirSync(v2, { recursive: true });
    const dir = this.dir(v2);
    for (const name of real.readdirSync(v2)) {
      const content = real.readFileSync(join(v2, name));
      const ino = this.newInode(content);
      ino.durable = Buffer.from(content);
      dir.live.set(name, ino.id);
      dir.durable.set(name, ino.id);
    }
  }

  private dir(path: string): Dir {
    let d = this.dirs.get(path);
    if (d === undefined) {
      d = { live: new Map(), durable: new Map(), pending: [] };
      this.dirs.set(path, d);
    }
    return d;
  }

  private newInode(live: Buffer = Buffer.alloc(0)): Inode {
    const ino: Inode = { id: this.nextIno++, live, durable: null, busy: 0 };
    this.inodes.set(ino.id, ino);
    return ino;
  }

  /** Whether `path` is this disk's business. */
  owns(path: string): boolean {
    const p = resolve(path);
    return p === this.root || p.startsWith(this.root + sep);
  }

  private lookup(path: string): Inode | null {
    const p = resolve(path);
    const id = this.dirs.get(dirname(p))?.live.get(p.slice(dirname(p).length + 1));
    return id === undefined ? null : this.inodes.get(id)!;
  }

  private lookupOrFail(path: string, what: string): Inode {
    const ino = this.lookup(path);
    if (ino === null) throw new Error(`fault layer: ${what} on ${path}, which the model does not know`);
    return ino;
  }

  // -- the operations, as the model sees them ------------------------------------------------

  /** Before an operation: count it, refuse it on a dead machine, fail here if the plan says so. */
  private enter(kind: OpKind, path: string): boolean {
    if (this.dead) throw new MachineGone(`${kind} ${path}`);
    this.seen.set(kind, (this.seen.get(kind) ?? 0) + 1);
    if (!this.plan.kinds.includes(kind)) return false;
    this.counts++;
    return this.counts === this.plan.nth;
  }

  private modelCreate(path: string): Inode {
    const p = resolve(path);
    const existing = this.lookup(p);
    if (existing !== null) {
      existing.live = Buffer.alloc(0); // O_TRUNC on the same inode
      return existing;
    }
    const ino = this.newInode();
    const d = this.dir(dirname(p));
    const name = p.slice(dirname(p).length + 1);
    d.live.set(name, ino.id);
    d.pending.push({ op: 'link', name, ino: ino.id });
    return ino;
  }

  private modelWrite(ino: Inode, pos: number, bytes: Buffer): void {
    if (pos + bytes.length > ino.live.length) {
      const grown = Buffer.alloc(pos + bytes.length);
      ino.live.copy(grown);
      ino.live = grown;
    }
    bytes.copy(ino.live, pos);
  }

  private modelTruncate(ino: Inode, len: number): void {
    const next = Buffer.alloc(len);
    ino.live.copy(next, 0, 0, Math.min(len, ino.live.length));
    ino.live = next;
  }

  private modelSync(ino: Inode): void {
    ino.durable = Buffer.from(ino.live);
  }

  private modelUnlink(path: string): void {
    const p = resolve(path);
    const d = this.dir(dirname(p));
    const name = p.slice(dirname(p).length + 1);
    if (!d.live.delete(name)) throw new Error(`fault layer: unlink of ${p}, which the model does not know`);
    d.pending.push({ op: 'unlink', name });
  }

  private modelRename(from: string, to: string): void {
    const a = resolve(from);
    const b = resolve(to);
    if (dirname(a) !== dirname(b)) throw new Error(`fault layer: rename across directories (${a} → ${b}) is not modelled`);
    const d = this.dir(dirname(a));
    const an = a.slice(dirname(a).length + 1);
    const bn = b.slice(dirname(b).length + 1);
    const id = d.live.get(an);
    if (id === undefined) throw new Error(`fault layer: rename of ${a}, which the model does not know`);
    d.live.delete(an);
    d.live.set(bn, id);
    // rename(2) is atomic: the new name and the old one's removal persist together.
    d.pending.push({ op: 'link', name: bn, ino: id });
    d.pending.push({ op: 'unlink', name: an });
  }

  private modelDirSync(path: string): void {
    const d = this.dir(resolve(path));
    d.durable = new Map(d.live);
    d.pending = [];
  }

  // -- failure ---------------------------------------------------------------------------------

  /** Fails the machine now (or at the current operation); writes the image. */
  fail(at = 'fail()'): Failure {
    if (this.failure !== null) return this.failure;
    try {
      this.checkModel();
    } catch (e) {
      this.defects.push((e as Error).message);
    }
    const image = this.imageRoot;
    for (const [path, d] of this.dirs) {
      const rel = relative(this.root, path);
      const out = join(image, rel);
      real.mkdirSync(out, { recursive: true });
      const names = this.plan.mode === 'crash' ? d.live : this.survivingNames(d);
      for (const [name, id] of names) {
        const ino = this.inodes.get(id)!;
        real.writeFileSync(join(out, name), this.plan.mode === 'crash' ? ino.live : this.survivingBytes(ino));
      }
    }
    this.failure = { at, mode: this.plan.mode, image };
    return this.failure;
  }

  /** The durable names plus a random prefix of the directory operations since. */
  private survivingNames(d: Dir): Map<string, number> {
    const names = new Map(d.durable);
    const keep = Math.floor(this.rnd() * (d.pending.length + 1));
    for (const op of d.pending.slice(0, keep)) {
      if (op.op === 'link') names.set(op.name, op.ino);
      else names.delete(op.name);
    }
    return names;
  }

  /** The durable bytes, plus unsynced sectors as the tear mode lets through. */
  private survivingBytes(ino: Inode): Buffer {
    const base = ino.durable ?? Buffer.alloc(0);
    const live = ino.live;
    if (this.plan.tear === 'none') return Buffer.from(base);
    // Sectors where live differs from durable (or lies beyond it).
    const sectors = Math.ceil(Math.max(base.length, live.length) / SECTOR);
    const dirty: number[] = [];
    for (let s = 0; s < sectors; s++) {
      const a = base.subarray(s * SECTOR, (s + 1) * SECTOR);
      const b = live.subarray(s * SECTOR, (s + 1) * SECTOR);
      if (!a.equals(b)) dirty.push(s);
    }
    let persisted: number[];
    if (this.plan.tear === 'prefix') persisted = dirty.slice(0, Math.floor(this.rnd() * (dirty.length + 1)));
    else persisted = dirty.filter(() => this.rnd() < 0.5);
    let length = base.length;
    for (const s of persisted) length = Math.max(length, Math.min(live.length, (s + 1) * SECTOR));
    if (live.length < base.length && this.rnd() < 0.5) length = live.length; // an unsynced truncate
    const out = Buffer.alloc(length);
    base.copy(out, 0, 0, Math.min(base.length, length));
    for (const s of persisted) {
      const from = s * SECTOR;
      const to = Math.min(live.length, (s + 1) * SECTOR, length);
      if (from < to) live.copy(out, from, from, to);
    }
    return out;
  }

  /**
   * The model against the real directory at the moment of failure: the same names and bytes.
   * Operations still in flight run on libuv's threads and may change the directory even now, so
   * while any is, only files no operation is busy with are compared. A difference means zkts
   * changed a file through a function this layer does not model, and the image would be wrong.
   */
  private checkModel(): void {
    const settled = this.inflight === 0;
    for (const [path, d] of this.dirs) {
      const actual = new Set(real.readdirSync(path));
      if (settled) {
        for (const name of actual) {
          if (!d.live.has(name)) throw new Error(`fault layer: ${join(path, name)} exists but was made by an operation the model did not see`);
        }
      }
      for (const [name, id] of d.live) {
        const ino = this.inodes.get(id)!;
        if (ino.busy > 0) continue;
        let bytes: Buffer;
        try {
          bytes = real.readFileSync(join(path, name));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !settled) continue;
          throw new Error(`fault layer: ${join(path, name)} is in the model but not on disk: ${(e as Error).message}`);
        }
        if (!bytes.equals(ino.live)) {
          throw new Error(`fault layer: ${join(path, name)} holds ${bytes.length} bytes that differ from the model's ${ino.live.length}: it was written through a function the model did not see`);
        }
      }
    }
  }

  private inflight = 0;

  /** Writes `bytes` at `pos` of a file open as `fh`; on a planned failure a random prefix lands first. */
  private async write(kind: OpKind, path: string, ino: Inode, fh: FileHandle, bytes: Buffer, pos: number): Promise<void> {
    if (this.enter(kind, path)) {
      const part = bytes.subarray(0, Math.floor(this.rnd() * bytes.length));
      real.writeSync(fh.fd, part, 0, part.length, pos);
      this.modelWrite(ino, pos, part);
      this.failNow(kind, path);
    }
    await this.inFlight(ino, async () => {
      let done = 0;
      while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done, pos + done)).bytesWritten;
    });
    if (this.dead) throw new MachineGone(`${kind} ${path}`); // it finished after the machine was gone
    this.modelWrite(ino, pos, bytes);
  }

  private failNow(kind: OpKind, path: string): never {
    this.fail(`${kind} ${path}`);
    throw new MachineGone(`${kind} ${path}`);
  }

  /** Makes this the disk that node:fs calls under its directory go to. */
  activate(): void {
    current = this;
  }

  /**
   * Runs a real asynchronous operation, marking the inode busy meanwhile (null: none yet, or only
   * the directory). An open with O_TRUNC of an existing file passes that file's inode: the real
   * file is emptied at some moment while the open runs, before the model's create says so, and a
   * failure meanwhile (a background snapshot write beside a new log's create) must not take that
   * for a write the model did not see; the image then holds the file as before the open.
   */
  private async inFlight<T>(ino: Inode | null, op: () => Promise<T>): Promise<T> {
    if (ino !== null) ino.busy++;
    this.inflight++;
    try {
      return await op();
    } finally {
      if (ino !== null) ino.busy--;
      this.inflight--;
    }
  }

  async snapOpen(path: string, flags: string | number, mode?: number): Promise<FileHandle> {
    if (flags !== 'w') throw new Error(`fault layer: open(${path}, ${String(flags)}) is not modelled`);
    if (this.enter('snap-open', path)) this.failNow('snap-open', path);
    const fh = await this.inFlight(this.lookup(path), () => real.open(path, 'w', mode));
    if (this.dead) {
      await fh.close();
      throw new MachineGone(`snap-open ${path}`);
    }
    return this.snapHandle(path, this.modelCreate(path), fh);
  }

  async rename(from: string, to: string): Promise<void> {
    if (this.enter('rename', to)) {
      // Killed at the rename: just before it or just after it (it is atomic either way).
      if (this.rnd() < 0.5) {
        real.renameSync(from, to);
        this.modelRename(from, to);
      }
      this.failNow('rename', to);
    }
    await this.inFlight(null, () => real.rename(from, to));
    if (this.dead) throw new MachineGone(`rename ${to}`);
    this.modelRename(from, to);
  }

  async unlink(path: string): Promise<void> {
    if (this.enter('unlink', path)) this.failNow('unlink', path);
    await this.inFlight(null, () => real.unlink(path));
    if (this.dead) throw new MachineGone(`unlink ${path}`);
    this.modelUnlink(path);
  }

  /** Inside a modelled operation whose Node implementation calls other patched functions. */
  private passThrough = 0;

  openSync(path: string, flags?: OpenMode, mode?: number): number {
    if (this.passThrough > 0) return real.openSync(path, flags ?? 'r', mode);
    if (flags !== undefined && flags !== 'r') throw new Error(`fault layer: openSync(${path}, ${String(flags)}) is not modelled`);
    const fd = real.openSync(path, flags ?? 'r', mode);
    if (real.statSync(path).isDirectory()) this.dirFds.set(fd, resolve(path));
    else this.fileFds.set(fd, resolve(path));
    return fd;
  }

  private readonly fileFds = new Map<number, string>();

  /**
   * A directory fsync through fsyncDir, or a file's through a read-only descriptor (truncate.ts
   * makes a cut durable so); false when `fd` is not one of this disk's.
   */
  fsyncSync(fd: number): boolean {
    const dir = this.dirFds.get(fd);
    if (dir !== undefined) {
      if (this.enter('dir-sync', dir)) this.failNow('dir-sync', dir);
      this.modelDirSync(dir);
      return true;
    }
    const file = this.fileFds.get(fd);
    if (file === undefined) return false;
    if (this.enter('file-sync', file)) this.failNow('file-sync', file);
    real.fsyncSync(fd);
    this.modelSync(this.lookupOrFail(file, 'fsync'));
    return true;
  }

  forgetFd(fd: number): void {
    this.dirFds.delete(fd);
    this.fileFds.delete(fd);
  }

  unlinkSync(path: string): void {
    if (this.enter('unlink', path)) this.failNow('unlink', path);
    real.unlinkSync(path);
    this.modelUnlink(path);
  }

  truncateSync(path: string, len: number): void {
    if (this.enter('truncate', path)) this.failNow('truncate', path);
    this.passThrough++; // fs.truncateSync opens the file 'r+' through fs.openSync
    try {
      real.truncateSync(path, len);
    } finally {
      this.passThrough--;
    }
    this.modelTruncate(this.lookupOrFail(path, 'truncate'), len);
  }

  renameSync(from: string, to: string): void {
    if (this.enter('rename', to)) this.failNow('rename', to);
    real.renameSync(from, to);
    this.modelRename(from, to);
  }

  // -- the txn log's LogFs --------------------------------------------------------------------

  readonly logFs: LogFs = {
    create: async (path) => {
      if (this.enter('log-create', path)) this.failNow('log-create', path);
      const fh = await this.inFlight(this.lookup(path), () => real.open(path, 'w'));
      if (this.dead) {
        await fh.close();
        throw new MachineGone(`log-create ${path}`);
      }
      const ino = this.modelCreate(path);
      return this.logHandle(path, ino, fh);
    },
    remove: async (path) => {
      if (this.enter('log-remove', path)) this.failNow('log-remove', path);
      await this.inFlight(null, () => real.unlink(path));
      if (this.dead) throw new MachineGone(`log-remove ${path}`);
      this.modelUnlink(path);
    },
    syncDir: async (dir) => {
      if (this.enter('dir-sync', dir)) this.failNow('dir-sync', dir);
      this.modelDirSync(dir);
    },
  };

  private logHandle(path: string, ino: Inode, fh: FileHandle): LogFileHandle {
    const sync = async (): Promise<void> => {
      if (this.enter('log-sync', path)) this.failNow('log-sync', path);
      this.modelSync(ino); // the model is the disk: no real fsync needed
    };
    return {
      write: (buf, position) => this.write('log-write', path, ino, fh, buf, position),
      // O_DSYNC's write, as the model sees it: the bytes land, then become durable (a failure
      // between the two leaves them written and not durable)
      writeDurable: async (bufs, position) => {
        await this.write('log-write', path, ino, fh, Buffer.concat(bufs), position);
        await sync();
      },
      datasync: sync,
      sync,
      truncate: async (len) => {
        if (this.enter('log-truncate', path)) this.failNow('log-truncate', path);
        await this.inFlight(ino, () => fh.truncate(len));
        if (this.dead) throw new MachineGone(`log-truncate ${path}`);
        this.modelTruncate(ino, len);
      },
      close: () => fh.close(),
    };
  }

  // -- node:fs and node:fs/promises, for snapshots and recovery --------------------------------

  /** A FileHandle for a snapshot file: write, sync, datasync and close are modelled; nothing else is allowed. */
  private snapHandle(path: string, ino: Inode, fh: FileHandle): FileHandle {
    const sync = async (): Promise<void> => {
      if (this.enter('snap-sync', path)) this.failNow('snap-sync', path);
      this.modelSync(ino);
    };
    const handle = {
      fd: fh.fd,
      write: async (buf: Buffer, offset = 0, length = buf.length - offset, position: number | null = null) => {
        if (position === null) throw new Error('fault layer: a snapshot write without a position is not modelled');
        await this.write('snap-write', path, ino, fh, buf.subarray(offset, offset + length), position);
        return { bytesWritten: length, buffer: buf };
      },
      sync,
      datasync: sync,
      close: () => fh.close(),
    };
    return new Proxy(handle, {
      get(target, prop, receiver) {
        if (prop in target) return Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'then') return undefined;
        throw new Error(`fault layer: FileHandle.${String(prop)} on ${path} is not modelled; extend power-sim-disk.ts`);
      },
    }) as unknown as FileHandle;
  }
}

let current: SimDisk | null = null;

/** The disk whose directory `path` is in, if any. */
function diskOf(path: unknown): SimDisk | null {
  return typeof path === 'string' && current !== null && current.owns(path) ? current : null;
}

/**
 * Wraps node:fs and node:fs/promises so that operations under the active SimDisk's directory go
 * through its model (every other path is untouched); returns the undo. One per test file.
 */
export function installFaultLayer(): () => void {
  const mfsp = fsp as unknown as Record<string, unknown>;
  const mfs = fs as unknown as Record<string, unknown>;
  mfsp.open = async function open(path: string, flags?: string | number, mode?: number): Promise<FileHandle> {
    const disk = diskOf(path);
    if (disk === null || flags === undefined || flags === 'r') return real.open(path, flags, mode);
    return disk.snapOpen(path, flags, mode);
  };
  mfsp.rename = async function rename(from: string, to: string): Promise<void> {
    const disk = diskOf(from);
    return disk === null ? real.rename(from, to) : disk.rename(from, to);
  };
  mfsp.unlink = async function unlink(path: string): Promise<void> {
    const disk = diskOf(path);
    return disk === null ? real.unlink(path) : disk.unlink(path);
  };
  mfs.openSync = function openSync(path: string, flags?: OpenMode, mode?: number): number {
    const disk = diskOf(path);
    return disk === null ? real.openSync(path, flags ?? 'r', mode) : disk.openSync(path, flags, mode);
  };
  mfs.fsyncSync = function fsyncSync(fd: number): void {
    if (current === null || !current.fsyncSync(fd)) real.fsyncSync(fd);
  };
  mfs.closeSync = function closeSync(fd: number): void {
    current?.forgetFd(fd);
    real.closeSync(fd);
  };
  mfs.unlinkSync = function unlinkSync(path: string): void {
    const disk = diskOf(path);
    return disk === null ? real.unlinkSync(path) : disk.unlinkSync(path);
  };
  mfs.truncateSync = function truncateSync(path: string, len?: number): void {
    const disk = diskOf(path);
    return disk === null ? real.truncateSync(path, len) : disk.truncateSync(path, len ?? 0);
  };
  mfs.renameSync = function renameSync(from: string, to: string): void {
    const disk = diskOf(from);
    return disk === null ? real.renameSync(from, to) : disk.renameSync(from, to);
  };
  syncBuiltinESMExports();
  return () => {
    current = null;
    mfsp.open = real.open;
    mfsp.rename = real.rename;
    mfsp.unlink = real.unlink;
    mfs.openSync = real.openSync;
    mfs.fsyncSync = real.fsyncSync;
    mfs.closeSync = real.closeSync;
    mfs.unlinkSync = real.unlinkSync;
    mfs.truncateSync = real.truncateSync;
    mfs.renameSync = real.renameSync;
    syncBuiltinESMExports();
  };
}
