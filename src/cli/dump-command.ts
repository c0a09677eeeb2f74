// dump-command.ts — `zkts snapshot dump` and `zkts txnlog dump`: ZooKeeper's SnapshotFormatter and
// TxnLogToolkit (dump mode) for the files of a dataDir, with the same text layout, plus a JSON
// document of everything a file holds. Exit status: 0 when the file read whole, 1 when it is
// damaged (what could be read is printed first, the problem goes to stderr), 2 for a usage error.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readSnapshotImage, snapshotBytes } from '../storage-tools/snapshot-file.js';
import { snapshotJson, snapshotNcdu, snapshotText } from '../storage-tools/snapshot-dump.js';
import { txnLogJson, txnLogText, type TxnLogTextResult } from '../storage-tools/txnlog-dump.js';

export const SNAPSHOT_DUMP_USAGE = `usage: zkts snapshot dump [-d] [--json | --ncdu] <snapshot file>

Prints a snapshot file (snapshot.<zxid>, plain or .gz) as ZooKeeper's SnapshotFormatter does:
every znode from "/" down with its stat, then the sessions and the last zxid.

options:
  -d, --data   print each znode's data (base64) instead of its length (SnapshotFormatter -d)
  --json       print a JSON document instead: header, sessions, ACL table, every znode with its
               stat, data (base64) and ACL id in file order, the checksums, digest and last zxid
  --ncdu       print SnapshotFormatter -json's output (ncdu's format, sized by data length)
  -h, --help   print this help

Times are printed in the local time zone (set TZ, e.g. TZ=UTC, to choose it).
`;

export const TXNLOG_DUMP_USAGE = `usage: zkts txnlog dump [--json] <log file>

Prints a txn log file (log.<zxid>) as ZooKeeper's TxnLogToolkit does in dump mode: one line per
txn with its time, session, cxid, zxid, type and content; a txn whose checksum fails is printed
after "CRC ERROR - "; the walk ends at the preallocated zeros or the end of the file.

options:
  --json       print a JSON document instead: the file header, every txn with its offset,
               checksum check, header fields, decoded record and TxnDigest, and where the log ends
  -h, --help   print this help

Times are printed in the local time zone (set TZ, e.g. TZ=UTC, to choose it).
`;

async function writeOut(chunks: Iterator<string, unknown>): Promise<unknown> {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.once('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1));
  for (;;) {
    const next = chunks.next();
    if (next.done) return next.value;
    if (next.value.length > 0 && !process.stdout.write(next.value)) await once(process.stdout, 'drain');
  }
}

interface Parsed {
  file: string | null;
  flags: Set<string>;
  bad: string | null;
}

function parseArgs(args: string[], known: Map<string, string>): Parsed {
  const flags = new Set<string>();
  let file: string | null = null;
  for (const a of args) {
    const flag = known.get(a);
    if (flag !== undefined) flags.add(flag);
    else if (a.startsWith('-') && a !== '-') return { file, flags, bad: `unknown option '${a}'` };
    else if (file !== null) return { file, flags, bad: `one file only (got '${file}' and '${a}')` };
    else file = a;
  }
  if (file === null && !flags.has('help')) return { file, flags, bad: 'no file given' };
  return { file, flags, bad: null };
}

function readInput(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch (e) {
    process.stderr.write(`zkts: cannot read ${file}: ${(e as Error).message}\n`);
    return null;
  }
}

const SNAPSHOT_FLAGS = new Map([
  ['-d', 'data'],
  ['--data', 'data'],
  ['--json', 'json'],
  ['-json', 'ncdu'], // SnapshotFormatter's own spelling
  ['--ncdu', 'ncdu'],
  ['-h', 'help'],
  ['--help', 'help'],
]);

/** `zkts snapshot <subcommand> …` */
export async function runSnapshotCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    process.stdout.write(SNAPSHOT_DUMP_USAGE);
    return 0;
  }
  if (sub !== 'dump') {
    process.stderr.write(`zkts snapshot: ${sub === undefined ? 'no subcommand' : `unknown subcommand '${sub}'`}\n${SNAPSHOT_DUMP_USAGE}`);
    return 2;
  }
  const p = parseArgs(rest, SNAPSHOT_FLAGS);
  if (p.flags.has('help')) {
    process.stdout.write(SNAPSHOT_DUMP_USAGE);
    return 0;
  }
  const exclusive = ['data', 'json', 'ncdu'].filter((f) => p.flags.has(f));
  if (p.bad !== null || exclusive.length > 1) {
    process.stderr.write(`zkts snapshot dump: ${p.bad ?? `--${exclusive.join(' and --')} cannot be combined`}\n${SNAPSHOT_DUMP_USAGE}`);
    return 2;
  }
  const raw = readInput(p.file!);
  if (raw === null) return 1;
  let bytes: Buffer;
  try {
    bytes = snapshotBytes(raw, p.file!);
  } catch (e) {
    process.stderr.write(`zkts: ${p.file}: ${(e as Error).message}\n`);
    return 1;
  }
  const img = readSnapshotImage(bytes);
  if (p.flags.has('json')) await writeOut(snapshotJson(img, p.file!));
  else if (p.flags.has('ncdu')) await writeOut(snapshotNcdu(img, Date.now()));
  else await writeOut(snapshotText(img, { data: p.flags.has('data'), fileName: basename(p.file!) }));
  if (img.problem === null) return 0;
  process.stderr.write(`zkts: ${p.file} is damaged: ${img.problem}\n`);
  return 1;
}

const TXNLOG_FLAGS = new Map([
  ['--json', 'json'],
  ['-d', 'dump'], // TxnLogToolkit's dump mode, the only one here
  ['--dump', 'dump'],
  ['-h', 'help'],
  ['--help', 'help'],
]);

/** `zkts txnlog <subcommand> …` */
export async function runTxnLogCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    process.stdout.write(TXNLOG_DUMP_USAGE);
    return 0;
  }
  if (sub !== 'dump') {
    process.stderr.write(`zkts txnlog: ${sub === undefined ? 'no subcommand' : `unknown subcommand '${sub}'`}\n${TXNLOG_DUMP_USAGE}`);
    return 2;
  }
  const p = parseArgs(rest, TXNLOG_FLAGS);
  if (p.flags.has('help')) {
    process.stdout.write(TXNLOG_DUMP_USAGE);
    return 0;
  }
  if (p.bad !== null) {
    process.stderr.write(`zkts txnlog dump: ${p.bad}\n${TXNLOG_DUMP_USAGE}`);
    return 2;
  }
  const raw = readInput(p.file!);
  if (raw === null) return 1;
  const gen = p.flags.has('json') ? txnLogJson(raw, p.file!) : txnLogText(raw, basename(p.file!));
  const result = (await writeOut(gen)) as TxnLogTextResult;
  if (result.error === null) return 0;
  process.stderr.write(`${result.error}\n`);
  return 1;
}
