// tls-der.ts — a small DER reader for what the TLS code must read itself: PKCS#12 key and trust
// stores (Node's TLS takes PEM or a PKCS#12 with a key, not a trust-only store) and the subject
// name of a client certificate (Node prints names in OpenSSL's format, not Java's). Definite
// lengths and one-byte tags only, every length checked against its parent: the input can be a
// hostile client's certificate. Pure: no I/O.

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  printableString: 0x13,
  t61String: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  graphicString: 0x19,
  visibleString: 0x1a,
  generalString: 0x1b,
  universalString: 0x1c,
  bmpString: 0x1e,
} as const;

/** One DER element: its identifier octet, its whole encoding and its contents. */
export interface Der {
  /** The identifier octet as it appears (class, constructed bit and tag number). */
  readonly tag: number;
  /** The whole TLV. */
  readonly raw: Buffer;
  /** The contents octets. */
  readonly value: Buffer;
}

const MAX_DEPTH = 32;

/** The element at the start of buf; `rest` is what follows it. */
export function readDer(buf: Buffer): { der: Der; rest: Buffer } {
  if (buf.length < 2) throw new DerError('truncated DER element');
  const tag = buf[0]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte DER tags are not supported (0x${tag.toString(16)})`);
  let len = buf[1]!;
  let header = 2;
  if (len === 0x80) throw new DerError('indefinite-length (BER) encoding is not DER');
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4) throw new DerError('DER length too large');
    if (buf.length < 2 + n) throw new DerError('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[2 + i]!;
    header = 2 + n;
  }
  if (buf.length - header < len) throw new DerError(`DER element of ${len} bytes runs past its container (${buf.length - header} left)`);
  const raw = buf.subarray(0, header + len);
  return { der: { tag, raw, value: buf.subarray(header, header + len) }, rest: buf.subarray(header + len) };
}

/** Parses exactly one element filling buf. */
export function parseDer(buf: Buffer): Der {
  const { der, rest } = readDer(buf);
  if (rest.length !== 0) throw new DerError(`${rest.length} bytes after the DER element`);
  return der;
}

/** The elements inside a constructed element. */
export function children(d: Der, depth = 0): Der[] {
  if (depth > MAX_DEPTH) throw new DerError('DER nested too deeply');
  if ((d.tag & 0x20) === 0) throw new DerError(`expected a constructed element, found tag 0x${d.tag.toString(16)}`);
  const out: Der[] = [];
  let rest = d.value;
  while (rest.length > 0) {
    const r = readDer(rest);
    out.push(r.der);
    rest = r.rest;
  }
  return out;
}

export function expectTag(d: Der | undefined, tag: number, what: string): Der {
  if (d === undefined) throw new DerError(`${what}: missing`);
  if (d.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${d.tag.toString(16)}`);
  return d;
}

/** The children of a SEQUENCE (or SET). */
export function seq(d: Der | undefined, what: string, tag: number = Tag.sequence): Der[] {
  return children(expectTag(d, tag, what));
}

/** An OBJECT IDENTIFIER in dotted form. */
export function oid(d: Der | undefined, what = 'OID'): string {
  const v = expectTag(d, Tag.oid, what).value;
  if (v.length === 0) throw new DerError(`${what}: empty OID`);
  const arcs: string[] = [];
  let n = 0n;
  for (let i = 0; i < v.length; i++) {
    n = (n << 7n) | BigInt(v[i]! & 0x7f);
    if ((v[i]! & 0x80) !== 0) {
      if (i === v.length - 1) throw new DerError(`${what}: truncated OID`);
      continue;
    }
    if (arcs.length === 0) {
      const first = n < 40n ? 0n : n < 80n ? 1n : 2n;
      arcs.push(first.toString(), (n - first * 40n).toString());
    } else {
      arcs.push(n.toString());
    }
    n = 0n;
  }
  return arcs.join('.');
}

/** A non-negative INTEGER that fits a safe JS number (iteration counts, versions, lengths). */
export function smallInt(d: Der | undefined, what: string): number {
  const v = expectTag(d, Tag.integer, what).value;
  if (v.length === 0 || v.length > 6 || (v[0]! & 0x80) !== 0) throw new DerError(`${what}: not a small non-negative integer`);
  return v.readUIntBE(0, v.length);
}

export function octets(d: Der | undefined, what: string): Buffer {
  return expectTag(d, Tag.octetString, what).value;
}

/** The single element inside an EXPLICIT context tag [n]. */
export function explicit(d: Der | undefined, n: number, what: string): Der {
  const inner = children(expectTag(d, 0xa0 | n, what));
  if (inner.length !== 1) throw new DerError(`${what}: expected one element inside [${n}]`);
  return inner[0]!;
}
