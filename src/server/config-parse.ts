// config-parse.ts — zoo.cfg is read by java.util.Properties.load, so this reads it the same way:
// the syntax below, then ZooKeeper's own String.trim() of every key and value. Also the Java
// number and boolean readings that ZooKeeper applies to values (Integer.parseInt for its own keys,
// Integer.getInteger's Integer.decode for zookeeper.* properties, Boolean.parseBoolean).
//
// Properties syntax, as Java implements it:
// - a natural line ends at \n, \r or \r\n; a logical line continues onto the next natural line
//   while it ends in an odd number of backslashes; the continuation's leading whitespace is
//   dropped, and an empty continuation line ends the logical line;
// - whitespace is space, \t and \f; lines that are blank or whose first non-whitespace character
//   is '#' or '!' are skipped; a comment never continues; a continuation line starting with '#'
//   is data unless everything before it was continued away (a line holding only "\");
// - the key runs to the first unescaped '=', ':' or whitespace; then whitespace, at most one '='
//   or ':', and whitespace again are skipped; the rest of the line is the value (so "a b" and
//   "a:b" and "a = b" all set a to b, and "a = = b" sets it to "= b");
// - escapes in keys and values: \t \n \r \f, \uXXXX, and backslash + any other character is that
//   character (so "\=" "\:" "\ " "\\" "\#" are literal);
// - a key repeated later replaces the earlier value.
// One difference: Properties.load(InputStream) decodes bytes as ISO-8859-1; loadConfig decodes
// the file as UTF-8, so non-ASCII paths mean what they say.

import { isAbsolute, resolve } from 'node:path';
import { ZktsError, type ZktsErrorCode } from '../errors.js';

export interface PropertyLine {
  key: string;
  value: string;
  /** 1-based line number where the logical line starts. */
  line: number;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f';
const isEol = (c: string): boolean => c === '\n' || c === '\r';

/** Every key=value of a properties text, in file order, duplicates included; keys and values trimmed
 * as ZooKeeper trims them. Throws ZktsError for a malformed \uXXXX escape. */
export function parseProperties(text: string, file?: string): PropertyLine[] {
  const out: PropertyLine[] = [];
  for (const { raw, line } of logicalLines(text)) {
    const { key, value } = splitKeyValue(raw, file === undefined ? `line ${line}: ` : `${file}:${line}: `);
    out.push({ key: javaTrim(key), value: javaTrim(value), line });
  }
  return out;
}

function* logicalLines(text: string): Generator<{ raw: string; line: number }> {
  const n = text.length;
  let i = 0;
  let line = 1;
  const skipEol = (): void => {
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
    line++;
  };
  while (i < n) {
    let raw = '';
    let start = line;
    let escaped = false; // raw ends in an unescaped backslash
    let skipBlank = true; // at the start of a line or of a continuation
    while (i < n) {
      const c = text[i];
      if (skipBlank && isBlank(c)) {
        i++;
        continue;
      }
      skipBlank = false;
      // As in Java, '#' or '!' starts a comment whenever the logical line is still empty, even
      // on a continuation line; a comment runs to the end of its natural line and never continues.
      if (raw === '' && (c === '#' || c === '!')) {
        while (i < n && !isEol(text[i])) i++;
        if (i < n) skipEol();
        skipBlank = true;
        continue;
      }
      if (!isEol(c)) {
        if (raw === '') start = line;
        raw += c;
        escaped = c === '\\' ? !escaped : false;
        i++;
        continue;
      }
      const crlf = c === '\r' && text[i + 1] === '\n';
      skipEol();
      // Java looks for the end of the text right after a one-character line end: a line continued
      // into it ends there, even if empty. (After \r\n it finds an empty continuation instead.)
      if (escaped && i >= n && !crlf) break;
      if (escaped) {
        raw = raw.slice(0, -1);
        escaped = false;
        skipBlank = true;
        continue;
      }
      if (raw !== '') break;
      skipBlank = true; // an empty logical line is no entry
    }
    // At the end of the text Java drops a final backslash after deciding the line is not empty,
    // so a last line holding only "\" is an entry with an empty key.
    if (escaped) yield { raw: raw.slice(0, -1), line: start };
    else if (raw !== '') yield { raw, line: start };
  }
}

function splitKeyValue(raw: string, where: string): { key: string; value: string } {
  const n = raw.length;
  let keyEnd = 0;
  let valueStart = n;
  let hasSeparator = false;
  let escaped = false;
  for (; keyEnd < n; keyEnd++) {
    const c = raw[keyEnd];
    if (!escaped && (c === '=' || c === ':')) {
      valueStart = keyEnd + 1;
      hasSeparator = true;
      break;
    }
    if (!escaped && isBlank(c)) {
      valueStart = keyEnd + 1;
      break;
    }
    escaped = c === '\\' ? !escaped : false;
  }
  for (; valueStart < n; valueStart++) {
    const c = raw[valueStart];
    if (isBlank(c)) continue;
    if (!hasSeparator && (c === '=' || c === ':')) {
      hasSeparator = true;
      continue;
    }
    break;
  }
  return { key: unescape(raw.slice(0, keyEnd), where), value: unescape(raw.slice(valueStart), where) };
}

const SIMPLE_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(s: string, where: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    i++;
    if (i >= s.length) break;
    const e = s[i];
    if (e === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        throw new ZktsError('ZKTS_ERR_CONFIG', `${where}malformed \\uXXXX escape "\\u${hex}": it needs four hex digits`);
      }
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += SIMPLE_ESCAPES[e] ?? e;
    }
  }
  return out;
}

/** Java's String.trim(): strips every character up to U+0020 from both ends. */
export function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.slice(a, b);
}

/** Java's String.split(regex) for a literal separator: trailing empty strings are dropped. */
export function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** Integer.parseInt: optional sign, decimal digits, 32-bit range; undefined when Java would throw. */
export function javaParseInt(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const v = Number(s);
  return v >= INT_MIN && v <= INT_MAX ? v : undefined;
}

/** Long.parseLong limited to JavaScript's safe integers (every value zkts reads this way fits). */
export function javaParseLong(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const v = Number(s);
  return Number.isSafeInteger(v) ? v : undefined;
}

/** Integer.decode, which Integer.getInteger uses for zookeeper.* properties: a sign, then 0x, 0X
 * or # for hex, a leading 0 for octal ("010" is 8), or decimal. */
export function javaDecodeInt(s: string, bits: 32 | 53 = 32): number | undefined {
  const m = /^([+-]?)(0[xX]|#|0(?=\d))?([0-9a-fA-F]+)$/.exec(s);
  if (m === null) return undefined;
  const radix = m[2] === undefined ? 10 : m[2] === '0' ? 8 : 16;
  const digits = radix === 10 ? /^\d+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9a-fA-F]+$/;
  if (!digits.test(m[3])) return undefined;
  const v = (m[1] === '-' ? -1 : 1) * parseInt(m[3], radix);
  if (bits === 32) return v >= INT_MIN && v <= INT_MAX ? v : undefined;
  return Number.isSafeInteger(v) ? v : undefined;
}

/** Boolean.parseBoolean: true for "true" in any case, false for everything else. */
export function javaParseBoolean(s: string | undefined): boolean {
  return s !== undefined && s.toLowerCase() === 'true';
}

/** The keys of one config file (the last of repeated keys wins, with a warning), read as
 * QuorumPeerConfig reads them; a bad value throws a ZktsError naming the file and line, the key,
 * the value and what is accepted. */
export class ZooCfg {
  readonly entries = new Map<string, PropertyLine>();

  constructor(
    lines: PropertyLine[],
    readonly file: string | undefined,
    readonly baseDir: string,
    readonly warnings: string[],
  ) {
    for (const line of lines) {
      const earlier = this.entries.get(line.key);
      if (earlier !== undefined) {
        const where = file === undefined ? '' : `${file}: `;
        warnings.push(`${where}${line.key} is set on lines ${earlier.line} and ${line.line}: the last wins, as in ZooKeeper`);
        this.entries.delete(line.key);
      }
      this.entries.set(line.key, line);
    }
  }

  /** "file:line: " of a key (or "file: "); "" without a file. */
  at(key?: string): string {
    if (this.file === undefined) return '';
    const line = key === undefined ? undefined : this.entries.get(key)?.line;
    return line === undefined ? `${this.file}: ` : `${this.file}:${line}: `;
  }

  fail(key: string, message: string, code: ZktsErrorCode = 'ZKTS_ERR_CONFIG'): never {
    throw new ZktsError(code, `${this.at(key)}${key}: ${message}`);
  }

  raw(key: string): string | undefined {
    return this.entries.get(key)?.value;
  }

  /** Integer.parseInt. */
  int(key: string, fallback: number): number {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    return javaParseInt(v) ?? this.fail(key, `"${v}" is not a whole number (-2147483648 to 2147483647)`);
  }

  /** QuorumPeerConfig.parseBoolean: true or false in any case, nothing else. */
  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    const lower = v.toLowerCase();
    if (lower === 'true' || lower === 'false') return lower === 'true';
    return this.fail(key, `"${v}" is not true or false`);
  }

  port(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const p = javaParseInt(v);
    if (p !== undefined && p >= 0 && p <= 65535) return p;
    return this.fail(key, `"${v}" is not a port number (0-65535; 0 picks a free port)`);
  }

  /** A path, resolved against baseDir; ZooKeeper warns about relative paths not written "./x". */
  path(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (v === '') this.fail(key, 'empty; it must be a path');
    if (!isAbsolute(v) && !v.startsWith('./') && !v.startsWith('../')) {
      this.warnings.push(`${this.at(key)}${key} "${v}" is relative: it resolves against the working directory. Write ./${v} to say that is what you mean`);
    }
    return resolve(this.baseDir, v);
  }
}
