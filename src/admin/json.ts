// json.ts — JSON written the way ZooKeeper's AdminServer writes it (Jackson, INDENT_OUTPUT):
// `"key" : value`, objects one entry per line indented two spaces per object level, arrays on one
// line as `[ a, b ]`, empty ones `{ }` and `[ ]`, no newline at the end. Tools diff and grep this
// output, and its numbers must keep their Java types: a long stays an integer however large (a
// session id does not fit a double, so it is a bigint here), a double always has a fraction
// ("0.0", as Java's Double.toString writes it).
import { formatJavaDouble } from '../server/four-letter-format.js';

/** A number written exactly as this text: a Java double's "0.0", or a long read from text. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** A Java double: written with a fraction, as Double.toString. */
export function javaDouble(value: number): JsonNumber {
  return new JsonNumber(formatJavaDouble(value));
}

export type Json =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonNumber
  | readonly Json[]
  | ReadonlyMap<string, Json>
  | { readonly [key: string]: Json };

/**
 * Objects may be plain objects (fixed keys) or Maps: a Map keeps its insertion order for every
 * key, where a plain object would move keys such as "2808000" (an expiry time) to the front.
 */
export function writeJson(value: Json): string {
  const out: string[] = [];
  write(value, 0, out);
  return out.join('');
}

function write(value: Json, nesting: number, out: string[]): void {
  if (value === null) out.push('null');
  else if (typeof value === 'string') out.push(JSON.stringify(value));
  else if (typeof value === 'boolean' || typeof value === 'bigint') out.push(String(value));
  else if (typeof value === 'number') out.push(Number.isInteger(value) ? String(value) : formatJavaDouble(value));
  else if (value instanceof JsonNumber) out.push(value.text);
  else if (Array.isArray(value)) writeArray(value as readonly Json[], nesting, out);
  else if (value instanceof Map) writeObject([...(value as ReadonlyMap<string, Json>)], nesting, out);
  else writeObject(Object.entries(value as { readonly [key: string]: Json }), nesting, out);
}

function writeArray(items: readonly Json[], nesting: number, out: string[]): void {
  out.push('[ ');
  items.forEach((item, i) => {
    if (i > 0) out.push(', ');
    write(item, nesting, out); // Jackson's arrays are inline: they add no indentation level
  });
  out.push(items.length === 0 ? ']' : ' ]');
}

function writeObject(entries: ReadonlyArray<readonly [string, Json]>, nesting: number, out: string[]): void {
  if (entries.length === 0) {
    out.push('{ }');
    return;
  }
  const inner = '\n' + '  '.repeat(nesting + 1);
  out.push('{');
  entries.forEach(([key, v], i) => {
    out.push(i === 0 ? inner : `,${inner}`, JSON.stringify(key), ' : ');
    write(v, nesting + 1, out);
  });
  out.push('\n' + '  '.repeat(nesting) + '}');
}
