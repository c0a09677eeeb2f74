// json-shape.ts — reads JSON keeping what JSON.parse loses (key order, a number's text, so a Java
// long stays distinct from a double and a 64-bit session id stays exact), and reduces a value to
// its shape: the keys in order and the Java type of each value. Two answers with equal shapes
// have the same keys and value types, whatever the values.

export class JsonNum {
  constructor(readonly text: string) {}
  get isLong(): boolean {
    return /^-?\d+$/.test(this.text);
  }
}

export type JsonValue = null | boolean | string | JsonNum | JsonValue[] | Map<string, JsonValue>;

export function parseJsonExact(text: string): JsonValue {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`JSON: ${what} at offset ${i}: ${JSON.stringify(text.slice(i, i + 20))}`);
  };
  const str = (): string => {
    const m = /^"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/.exec(text.slice(i));
    if (m === null) return fail('bad string');
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (): JsonValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out = new Map<string, JsonValue>();
      ws();
      if (text[i] === '}') return i++, out;
      for (;;) {
        ws();
        const key = str();
        ws();
        if (text[i++] !== ':') fail('expected :');
        if (out.has(key)) fail(`duplicate key ${key}`);
        out.set(key, value());
        ws();
        const sep = text[i++];
        if (sep === '}') return out;
        if (sep !== ',') fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const out: JsonValue[] = [];
      ws();
      if (text[i] === ']') return i++, out;
      for (;;) {
        out.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') return out;
        if (sep !== ',') fail('expected , or ]');
      }
    }
    if (c === '"') return str();
    for (const [word, v] of [['null', null], ['true', true], ['false', false]] as const) {
      if (text.startsWith(word, i)) return (i += word.length), v;
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (m === null) return fail('unexpected token');
    i += m[0].length;
    return new JsonNum(m[0]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}

export type Shape =
  | 'null' | 'boolean' | 'string' | 'long' | 'double'
  | { readonly array: Shape | 'empty' }
  | { readonly map: Shape | 'empty' }
  | { readonly object: ReadonlyArray<readonly [string, Shape]> };

export interface ShapeRules {
  /** Objects whose keys are data (session ids, paths, times): only their values' shape counts. */
  readonly maps?: readonly string[];
  /** Keys (full paths, e.g. "$.zk_x") left out of the comparison. */
  readonly omit?: (path: string) => boolean;
}

function same(shapes: Shape[], path: string): Shape | 'empty' {
  if (shapes.length === 0) return 'empty';
  const first = JSON.stringify(shapes[0]);
  const other = shapes.find((s) => JSON.stringify(s) !== first);
  if (other !== undefined) throw new Error(`${path}: elements of different shapes: ${first} and ${JSON.stringify(other)}`);
  return shapes[0]!;
}

/** The shape of v; paths are "$", "$.key", "$.list[]". */
export function shapeOf(v: JsonValue, rules: ShapeRules = {}, path = '$'): Shape {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  if (v instanceof JsonNum) return v.isLong ? 'long' : 'double';
  if (Array.isArray(v)) return { array: same(v.map((x) => shapeOf(x, rules, `${path}[]`)), `${path}[]`) };
  if (rules.maps?.includes(path)) return { map: same([...v.values()].map((x) => shapeOf(x, rules, `${path}{}`)), `${path}{}`) };
  const entries: Array<readonly [string, Shape]> = [];
  for (const [k, x] of v) {
    const p = `${path}.${k}`;
    if (rules.omit?.(p) !== true) entries.push([k, shapeOf(x, rules, p)]);
  }
  return { object: entries };
}
