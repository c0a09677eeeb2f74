// json-schema-lite.ts — a small JSON Schema validator (a subset of draft 2020-12) for the
// json-config example. Why not ajv: it is ~1 MB with dependencies and compiles schemas with
// `new Function`, a lot to pull into a server process for one example; this subset covers what
// configuration schemas use, and refuses — at start, not silently at write time — any assertion
// keyword it does not implement.
//
// Supported: type (one or a list), enum, const; minimum, maximum, exclusiveMinimum,
// exclusiveMaximum, multipleOf; minLength, maxLength, pattern; items, prefixItems, minItems,
// maxItems, uniqueItems; properties, required, additionalProperties, patternProperties,
// minProperties, maxProperties; allOf, anyOf, oneOf, not; local $ref (#/$defs/…, #/definitions/…).
// Annotations (title, description, default, examples, format, $schema, $id, $comment, …) are
// accepted and ignored.

export type Schema = boolean | { [keyword: string]: unknown };

export interface SchemaError {
  /** JSON Pointer to the offending value ('' is the document). */
  at: string;
  message: string;
}

const ASSERTIONS = new Set([
  'type', 'enum', 'const',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'pattern',
  'items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems',
  'properties', 'required', 'additionalProperties', 'patternProperties', 'minProperties', 'maxProperties',
  'allOf', 'anyOf', 'oneOf', 'not', '$ref',
]);
const ANNOTATIONS = new Set([
  '$schema', '$id', '$defs', 'definitions', '$comment', 'title', 'description', 'default', 'examples',
  'format', 'deprecated', 'readOnly', 'writeOnly', '$anchor', 'contentMediaType', 'contentEncoding',
]);
const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string']);

/** Checks that a schema uses only what this validator implements; throws naming the first problem. */
export function checkSchema(schema: Schema, at = '#'): void {
  if (typeof schema === 'boolean') return;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error(`${at}: a schema must be an object or a boolean`);
  for (const [k, v] of Object.entries(schema)) {
    if (!ASSERTIONS.has(k) && !ANNOTATIONS.has(k)) throw new Error(`${at}: keyword "${k}" is not supported by this validator`);
    switch (k) {
      case 'type': {
        const list = Array.isArray(v) ? v : [v];
        for (const t of list) if (typeof t !== 'string' || !TYPES.has(t)) throw new Error(`${at}/type: unknown type ${JSON.stringify(t)}`);
        break;
      }
      case 'pattern':
        if (typeof v !== 'string') throw new Error(`${at}/pattern: must be a string`);
        new RegExp(v, 'u');
        break;
      case 'items':
      case 'additionalProperties':
      case 'not':
        checkSchema(v as Schema, `${at}/${k}`);
        break;
      case 'properties':
      case 'patternProperties':
      case '$defs':
      case 'definitions':
        for (const [name, sub] of Object.entries(v as object)) checkSchema(sub as Schema, `${at}/${k}/${name}`);
        break;
      case 'prefixItems':
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        if (!Array.isArray(v) || v.length === 0) throw new Error(`${at}/${k}: must be a non-empty array of schemas`);
        v.forEach((sub, i) => checkSchema(sub as Schema, `${at}/${k}/${i}`));
        break;
      case '$ref':
        if (typeof v !== 'string' || !/^#\/(\$defs|definitions)\/[^/]+$/.test(v)) throw new Error(`${at}/$ref: only local refs (#/$defs/name) are supported`);
        break;
      default:
        break;
    }
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function matchesType(v: unknown, t: string): boolean {
  switch (t) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    default:
      return typeOf(v) === t;
  }
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => equal(x, (b as unknown[])[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const pointer = (at: string, key: string | number): string => `${at}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

/** Validates `value` against `schema`; the errors found (empty when valid), at most `max`. */
export function validate(schema: Schema, value: unknown, root: Schema = schema, max = 10): SchemaError[] {
  const errors: SchemaError[] = [];
  walk(schema, value, '', root, errors, max);
  return errors;
}

function walk(schema: Schema, v: unknown, at: string, root: Schema, errors: SchemaError[], max: number): void {
  if (errors.length >= max) return;
  if (schema === true) return;
  if (schema === false) {
    errors.push({ at, message: 'no value is allowed here' });
    return;
  }
  const s = schema as Record<string, unknown>;
  const fail = (message: string): void => void errors.push({ at, message });
  if (typeof s.$ref === 'string') {
    const [, bucket, name] = s.$ref.split('/') as [string, string, string];
    const target = ((root as Record<string, Record<string, Schema>>)[bucket] ?? {})[name];
    if (target === undefined) fail(`$ref ${s.$ref} names no schema`);
    else walk(target, v, at, root, errors, max);
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => matchesType(v, t))) {
      fail(`expected ${types.join(' or ')}, got ${typeOf(v)}`);
      return;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => equal(e, v))) fail(`must be one of ${JSON.stringify(s.enum)}`);
  if ('const' in s && !equal(s.const, v)) fail(`must be ${JSON.stringify(s.const)}`);
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) fail(`must be ≥ ${s.minimum}`);
    if (typeof s.maximum === 'number' && v > s.maximum) fail(`must be ≤ ${s.maximum}`);
    if (typeof s.exclusiveMinimum === 'number' && v <= s.exclusiveMinimum) fail(`must be > ${s.exclusiveMinimum}`);
    if (typeof s.exclusiveMaximum === 'number' && v >= s.exclusiveMaximum) fail(`must be < ${s.exclusiveMaximum}`);
    if (typeof s.multipleOf === 'number' && !Number.isInteger(v / s.multipleOf)) fail(`must be a multiple of ${s.multipleOf}`);
  }
  if (typeof v === 'string') {
    const length = [...v].length;
    if (typeof s.minLength === 'number' && length < s.minLength) fail(`must have at least ${s.minLength} characters`);
    if (typeof s.maxLength === 'number' && length > s.maxLength) fail(`must have at most ${s.maxLength} characters`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) fail(`must match ${s.pattern}`);
  }
  if (Array.isArray(v)) {
    const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as Schema[]) : [];
    prefix.forEach((sub, i) => i < v.length && walk(sub, v[i], pointer(at, i), root, errors, max));
    if (s.items !== undefined) for (let i = prefix.length; i < v.length; i++) walk(s.items as Schema, v[i], pointer(at, i), root, errors, max);
    if (typeof s.minItems === 'number' && v.length < s.minItems) fail(`must have at least ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) fail(`must have at most ${s.maxItems} items`);
    if (s.uniqueItems === true && v.some((x, i) => v.findIndex((y) => equal(x, y)) !== i)) fail('items must be unique');
  }
  if (typeOf(v) === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, Schema>).map(([p, sub]) => [new RegExp(p, 'u'), sub] as const);
    if (Array.isArray(s.required)) for (const r of s.required as string[]) if (!Object.hasOwn(o, r)) fail(`property "${r}" is required`);
    if (typeof s.minProperties === 'number' && keys.length < s.minProperties) fail(`must have at least ${s.minProperties} properties`);
    if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) fail(`must have at most ${s.maxProperties} properties`);
    for (const k of keys) {
      let matched = false;
      if (Object.hasOwn(props, k)) {
        matched = true;
        walk(props[k]!, o[k], pointer(at, k), root, errors, max);
      }
      for (const [re, sub] of patterns) {
        if (!re.test(k)) continue;
        matched = true;
        walk(sub, o[k], pointer(at, k), root, errors, max);
      }
      if (!matched && s.additionalProperties !== undefined) {
        if (s.additionalProperties === false) errors.push({ at: pointer(at, k), message: 'is not an allowed property' });
        else walk(s.additionalProperties as Schema, o[k], pointer(at, k), root, errors, max);
      }
    }
  }
  if (Array.isArray(s.allOf)) for (const sub of s.allOf as Schema[]) walk(sub, v, at, root, errors, max);
  if (Array.isArray(s.anyOf) && !(s.anyOf as Schema[]).some((sub) => validate(sub, v, root, 1).length === 0)) fail('must match at least one schema of anyOf');
  if (Array.isArray(s.oneOf)) {
    const n = (s.oneOf as Schema[]).filter((sub) => validate(sub, v, root, 1).length === 0).length;
    if (n !== 1) fail(`must match exactly one schema of oneOf (matches ${n})`);
  }
  if (s.not !== undefined && validate(s.not as Schema, v, root, 1).length === 0) fail('must not match the schema of not');
}
