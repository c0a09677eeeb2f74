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
