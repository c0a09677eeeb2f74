// options.ts — typed plugin options. A plugin declares each option once (`option.integer({ min: 1,
// default: 100 })`); the loader validates what zoo.cfg (`plugin.N.option=value`, always text) or
// code (`new ZkServer({ plugins: [{ plugin, options }] })`, typed values) gives, before any plugin
// starts, and the plugin's setup receives plain typed values. A bad value is a ZktsError naming
// the plugin and the option, so that an operator can fix zoo.cfg without reading plugin code.

/** One declared option: how to read it from config text or from a value given in code. */
export interface OptionSpec<T> {
  readonly kind: string;
  readonly description?: string;
  /** Whether a value must be given (no default and not optional). */
  readonly required: boolean;
  /** The value when none is given (undefined for optional options without a default). */
  readonly fallback: T | undefined;
  /** The value, or an error message ("expected …, got …"). */
  parse(raw: unknown): { value: T } | { error: string };
}

export type OptionsSchema = Readonly<Record<string, OptionSpec<unknown>>>;

/** The typed options a schema describes. */
export type OptionsOf<S extends OptionsSchema> = { readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** A plugin may validate its options with its own function instead of a schema. */
export type OptionsValidator<O> = (raw: Readonly<Record<string, unknown>>) => O;

interface Common<T> {
  description?: string;
  default?: T;
}
type Optional = { optional: true };

/** The spec, typed T when required or defaulted, T | undefined when optional. */
type Spec<T, O> = O extends Optional ? (O extends { default: unknown } ? OptionSpec<T> : OptionSpec<T | undefined>) : OptionSpec<T>;

function spec<T>(kind: string, o: Common<T> & { optional?: boolean }, parse: (raw: unknown) => { value: T } | { error: string }): OptionSpec<T> {
  return {
    kind,
    description: o.description,
    required: o.default === undefined && o.optional !== true,
    fallback: o.default,
    parse,
  };
}

const show = (raw: unknown): string => (typeof raw === 'string' ? JSON.stringify(raw) : String(raw));

function parseNumber(raw: unknown, integer: boolean, min: number | undefined, max: number | undefined): { value: number } | { error: string } {
  const what = `${integer ? 'an integer' : 'a number'}${min !== undefined ? ` ≥ ${min}` : ''}${max !== undefined ? ` ≤ ${max}` : ''}`;
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw)) n = Number(raw);
  else return { error: `expected ${what}, got ${show(raw)}` };
  if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) return { error: `expected ${what}, got ${show(raw)}` };
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) return { error: `expected ${what}, got ${show(raw)}` };
  return { value: n };
}

export const option = {
  string<O extends Common<string> & { optional?: true; pattern?: RegExp }>(o: O = {} as O): Spec<string, O> {
    return spec<string>('string', o, (raw) => {
      if (typeof raw !== 'string') return { error: `expected a string, got ${show(raw)}` };
      if (o.pattern !== undefined && !o.pattern.test(raw)) return { error: `expected a string matching ${o.pattern}, got ${show(raw)}` };
      return { value: raw };
    }) as Spec<string, O>;
  },

  integer<O extends Common<number> & { optional?: true; min?: number; max?: number }>(o: O = {} as O): Spec<number, O> {
    return spec<number>('integer', o, (raw) => parseNumber(raw, true, o.min, o.max)) as Spec<number, O>;
  },

  number<O extends Common<number> & { optional?: true; min?: number; max?: number }>(o: O = {} as O): Spec<number, O> {
    return spec<number>('number', o, (raw) => parseNumber(raw, false, o.min, o.max)) as Spec<number, O>;
  },

  /** true/false (also yes/no, on/off, 1/0 in zoo.cfg text). */
  boolean<O extends Common<boolean> & { optional?: true }>(o: O = {} as O): Spec<boolean, O> {
    return spec<boolean>('boolean', o, (raw) => {
      if (typeof raw === 'boolean') return { value: raw };
      if (typeof raw === 'string') {
        const s = raw.trim().toLowerCase();
        if (s === 'true' || s === 'yes' || s === 'on' || s === '1') return { value: true };
        if (s === 'false' || s === 'no' || s === 'off' || s === '0') return { value: false };
      }
      return { error: `expected true or false, got ${show(raw)}` };
    }) as Spec<boolean, O>;
  },

  oneOf<const V extends string, O extends Common<V> & { optional?: true }>(values: readonly V[], o: O = {} as O): Spec<V, O> {
    return spec<V>('oneOf', o, (raw) =>
      typeof raw === 'string' && (values as readonly string[]).includes(raw)
        ? { value: raw as V }
        : { error: `expected one of ${values.join(', ')}, got ${show(raw)}` },
    ) as Spec<V, O>;
  },

  /** A list: an array in code, comma-separated in zoo.cfg; each item checked by `item`. */
  list<T, O extends Common<T[]> & { optional?: true }>(item: OptionSpec<T>, o: O = {} as O): Spec<T[], O> {
    return spec<T[]>('list', o, (raw) => {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? (raw.trim() === '' ? [] : raw.split(',').map((s) => s.trim())) : null;
      if (items === null) return { error: `expected a list, got ${show(raw)}` };
      const out: T[] = [];
      for (const [i, x] of items.entries()) {
        const r = item.parse(x);
        if ('error' in r) return { error: `item ${i + 1}: ${r.error}` };
        out.push(r.value);
      }
      return { value: out };
    }) as Spec<T[], O>;
  },
} as const;

/**
 * Checks `raw` against `schema`: every declared option parsed or defaulted, no undeclared ones.
 * Returns the typed options, or the list of problems as (option, message) pairs.
 */
export function validateOptions(
  schema: OptionsSchema,
  raw: Readonly<Record<string, unknown>>,
): { options: Record<string, unknown> } | { problems: Array<{ option: string; message: string }> } {
  const problems: Array<{ option: string; message: string }> = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(schema, key)) {
      const known = Object.keys(schema);
      problems.push({ option: key, message: `not an option of this plugin (${known.length === 0 ? 'it takes none' : `it takes ${known.join(', ')}`})` });
    }
  }
  for (const [key, s] of Object.entries(schema)) {
    const given = raw[key];
    if (given === undefined) {
      if (s.required) problems.push({ option: key, message: `required${s.description ? ` (${s.description})` : ''}, not given` });
      else out[key] = s.fallback;
      continue;
    }
    const r = s.parse(given);
    if ('error' in r) problems.push({ option: key, message: r.error });
    else out[key] = r.value;
  }
  return problems.length > 0 ? { problems } : { options: out };
}
