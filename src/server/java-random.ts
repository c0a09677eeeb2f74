// java-random.ts — java.util.Random's 48-bit LCG, bit for bit. ZooKeeper derives a session's
// password from it (Random(sessionId ^ secret).nextBytes), and clients that move a session
// between servers rely on every server deriving the same bytes.

const MULT = 0x5deece66dn;
const MASK = (1n << 48n) - 1n;

export class JavaRandom {
  private seed: bigint;

  constructor(seed: bigint) {
    this.seed = (BigInt.asUintN(64, seed) ^ MULT) & MASK;
  }

  private next(bits: number): number {
    this.seed = (this.seed * MULT + 0xbn) & MASK;
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)));
  }

  nextInt(): number {
    return this.next(32);
  }

  nextBytes(out: Uint8Array): void {
    for (let i = 0; i < out.length; ) {
      let rnd = this.nextInt();
      for (let n = Math.min(out.length - i, 4); n-- > 0; rnd >>= 8) out[i++] = rnd & 0xff;
    }
  }
}

/** ZooKeeperServer's session password: 16 bytes of Random(sessionId ^ 0xB3415C00). */
export function sessionPassword(sessionId: bigint): Buffer {
  const out = Buffer.alloc(16);
  new JavaRandom(sessionId ^ 0xb3415c00n).nextBytes(out);
  return out;
}
