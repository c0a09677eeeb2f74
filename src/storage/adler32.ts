// adler32.ts — the Adler-32 checksum (RFC 1950) that ZooKeeper's txn log and snapshot files use
// (java.util.zip.Adler32). Node's zlib does not expose it, so it is computed here: sums are
// reduced modulo 65521 every 3800 bytes, the most after which b (from up to 65520, every byte
// 0xff) stays below 2^31, so V8 keeps both sums in int32 registers. zlib's 5552 fits 32 bits
// unsigned only: past 2^31 V8 falls back to float64 adds, and the checksum ran at half the speed.

const MOD = 65521;
const BLOCK = 3800;

/** Continues the checksum `start` (1 for a fresh one) over `buf`; returns it unsigned. */
export function adler32(buf: Uint8Array, start = 1, from = 0, to = buf.length): number {
  let a = start & 0xffff;
  let b = start >>> 16;
  let i = from;
  while (i < to) {
    const end = Math.min(i + BLOCK, to);
    // 16 bytes per turn: half the time of a byte loop on a snapshot's hundreds of MB.
    const end16 = end - ((end - i) & 15);
    while (i < end16) {
      a = (a + buf[i]!) | 0; b = (b + a) | 0; a = (a + buf[i + 1]!) | 0; b = (b + a) | 0;
      a = (a + buf[i + 2]!) | 0; b = (b + a) | 0; a = (a + buf[i + 3]!) | 0; b = (b + a) | 0;
      a = (a + buf[i + 4]!) | 0; b = (b + a) | 0; a = (a + buf[i + 5]!) | 0; b = (b + a) | 0;
      a = (a + buf[i + 6]!) | 0; b = (b + a) | 0; a = (a + buf[i + 7]!) | 0; b = (b + a) | 0;
      a = (a + buf[i + 8]!) | 0; b = (b + a) | 0; a = (a + buf[i + 9]!) | 0; b = (b + a) | 0;
      a = (a + buf[i + 10]!) | 0; b = (b + a) | 0; a = (a + buf[i + 11]!) | 0; b = (b + a) | 0;
      a = (a + buf[i + 12]!) | 0; b = (b + a) | 0; a = (a + buf[i + 13]!) | 0; b = (b + a) | 0;
      a = (a + buf[i + 14]!) | 0; b = (b + a) | 0; a = (a + buf[i + 15]!) | 0; b = (b + a) | 0;
      i += 16;
    }
    for (; i < end; i++) {
      a = (a + buf[i]!) | 0;
      b = (b + a) | 0;
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
