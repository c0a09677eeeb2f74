// adler32.ts — the Adler-32 checksum (RFC 1950) that ZooKeeper's txn log and snapshot files use
// (java.util.zip.Adler32). Node's zlib does not expose it, so it is computed here: sums are
// reduced modulo 65521 every 5552 bytes, the most that cannot overflow 32 bits.

const MOD = 65521;
const NMAX = 5552;

/** Continues the checksum `start` (1 for a fresh one) over `buf`; returns it unsigned. */
export function adler32(buf: Uint8Array, start = 1, from = 0, to = buf.length): number {
  let a = start & 0xffff;
  let b = start >>> 16;
  let i = from;
  while (i < to) {
    const end = Math.min(i + NMAX, to);
    // 16 bytes per turn: half the time of a byte loop on a snapshot's hundreds of MB.
    const end16 = end - ((end - i) & 15);
    while (i < end16) {
      a += buf[i]!; b += a; a += buf[i + 1]!; b += a; a += buf[i + 2]!; b += a; a += buf[i + 3]!; b += a;
      a += buf[i + 4]!; b += a; a += buf[i + 5]!; b += a; a += buf[i + 6]!; b += a; a += buf[i + 7]!; b += a;
      a += buf[i + 8]!; b += a; a += buf[i + 9]!; b += a; a += buf[i + 10]!; b += a; a += buf[i + 11]!; b += a;
      a += buf[i + 12]!; b += a; a += buf[i + 13]!; b += a; a += buf[i + 14]!; b += a; a += buf[i + 15]!; b += a;
      i += 16;
    }
    for (; i < end; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}

/** A running checksum over a stream of chunks, as java.util.zip.CheckedOutputStream. */
export class Adler32 {
  private v = 1;

  update(buf: Uint8Array, from = 0, to = buf.length): this {
    this.v = adler32(buf, this.v, from, to);
    return this;
  }

  get value(): number {
    return this.v;
  }
}
