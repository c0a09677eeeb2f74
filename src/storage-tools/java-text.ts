// java-text.ts — the pieces of Java's text output that ZooKeeper's dump tools (SnapshotFormatter,
// TxnLogToolkit) print, so that `zkts snapshot dump` and `zkts txnlog dump` print the same lines:
// Date.toString(), DateFormat SHORT/LONG (en-US), `%#016x` of a long, Long.toHexString, jute's
// ToStringOutputArchive escapes, Jackson's JSON string quoting, Request.op2String, and the
// iteration order of a java.util.HashSet/HashMap (SnapshotFormatter walks children in that order).
// Times use the process's time zone, as the Java tools use the JVM's (set TZ to choose it).

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** The furthest instants a JS Date holds; Java's Date goes on to the ends of a long. */
const JS_DATE_MAX_MS = 8_640_000_000_000_000n;
/** GregorianCalendar's default cutover: before 15 Oct 1582 Java's dates are Julian. */
const GREGORIAN_CUTOVER_MS = -12_219_292_800_000n;
const DAY_MS = 86_400_000n;

const floorDiv = (a: number, b: number): number => Math.floor(a / b);
const floorMod = (a: number, b: number): number => a - b * Math.floor(a / b);

interface Civil {
  year: number; // as Java prints it: the year of the era (1 BC prints as 1)
  month: number; // 1-12
  day: number;
  weekday: number; // 0 = Sunday
  hour: number;
  minute: number;
  second: number;
  zone: string;
}

/**
 * English locales whose names for zones Java knows by abbreviation (EST, CET, IST, AEST); en-US
 * alone names most zones outside America "GMT+1".
 */
const ZONE_LOCALES = ['en-US', 'en-GB', 'en-IN', 'en-AU', 'en-NZ', 'en-CA', 'en-IE', 'en-ZA'];
let zoneFormats: Intl.DateTimeFormat[] | null = null;
const zoneCache = new Map<bigint, { offsetMs: bigint; name: string }>();

/** The local time zone's offset and short name at `ms` (at the nearest instant a Date holds, past them). */
function zoneAt(ms: bigint): { offsetMs: bigint; name: string } {
  const clamped = ms > JS_DATE_MAX_MS ? JS_DATE_MAX_MS : ms < -JS_DATE_MAX_MS ? -JS_DATE_MAX_MS : ms;
  const hour = clamped / 3_600_000n; // zones change on the hour, or at least not within one here
  const cached = zoneCache.get(hour);
  if (cached !== undefined) return cached;
  const d = new Date(Number(clamped));
  zoneFormats ??= ZONE_LOCALES.map((l) => new Intl.DateTimeFormat(l, { timeZoneName: 'short' }));
  let name = 'UTC';
  for (const f of zoneFormats) {
    const part = f.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value;
    if (part === undefined) continue;
    if (f === zoneFormats[0]) name = part;
    if (!/^(GMT|UTC)[+-]/.test(part)) {
      name = part;
      break;
    }
  }
  const zone = { offsetMs: BigInt(-d.getTimezoneOffset() * 60_000), name };
  if (zoneCache.size > 4096) zoneCache.clear();
  zoneCache.set(hour, zone);
  return zone;
}

/** The local date and time of `ms` since the epoch, on Java's calendar (Julian before the cutover). */
function javaCivil(ms: bigint): Civil {
  const zone = zoneAt(ms);
  const local = ms + zone.offsetMs;
  let days = local / DAY_MS;
  if (local % DAY_MS < 0n) days -= 1n;
  const msOfDay = Number(local - days * DAY_MS);
  const j = Number(days) + 2_440_588; // the Julian day number (1970-01-01 is 2440588)
  // Richards' conversion from a Julian day number, with floor division so it holds for any day.
  const f = ms >= GREGORIAN_CUTOVER_MS ? j + 1401 + floorDiv(floorDiv(4 * j + 274_277, 146_097) * 3, 4) - 38 : j + 1401;
  const e = 4 * f + 3;
  const g = floorDiv(floorMod(e, 1461), 4);
  const h = 5 * g + 2;
  const day = floorDiv(floorMod(h, 153), 5) + 1;
  const month = floorMod(floorDiv(h, 153) + 2, 12) + 1;
  const year = floorDiv(e, 1461) - 4716 + floorDiv(12 + 2 - month, 12);
  return {
    year: year <= 0 ? 1 - year : year,
    month,
    day,
    weekday: floorMod(j + 1, 7),
    hour: Math.floor(msOfDay / 3_600_000),
    minute: Math.floor(msOfDay / 60_000) % 60,
    second: Math.floor(msOfDay / 1000) % 60,
    zone: zone.name,
  };
}

/** java.util.Date.toString(): "Thu Nov 26 17:35:39 UTC 2026". */
export function javaDateString(ms: bigint): string {
  const c = javaCivil(ms);
  return `${DAYS[c.weekday]} ${MONTHS[c.month - 1]} ${two(c.day)} ${two(c.hour)}:${two(c.minute)}:${two(c.second)} ${c.zone} ${c.year}`;
}

/** DateFormat.getDateTimeInstance(SHORT, LONG) in en-US: "11/26/26, 5:35:38 PM UTC". */
export function javaShortLongDate(ms: bigint): string {
  const c = javaCivil(ms);
  const h = c.hour % 12 === 0 ? 12 : c.hour % 12;
  return `${c.month}/${c.day}/${two(c.year % 100)}, ${h}:${two(c.minute)}:${two(c.second)} ${c.hour < 12 ? 'AM' : 'PM'} ${c.zone}`;
}

/** Long.toHexString: the unsigned 64-bit value in lower-case hex. */
export function javaLongHex(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16);
}

/** String.format("%#016x", long): "0x" and at least 14 digits. */
export function javaHex016(v: bigint): string {
  return '0x' + javaLongHex(v).padStart(14, '0');
}

/** Request.op2String of ZooKeeper 3.8/3.9. */
const OP_NAMES = new Map<number, string>([
  [-11, 'closeSession'], [-10, 'createSession'], [-1, 'error'], [0, 'notification'], [1, 'create'],
  [2, 'delete'], [3, 'exists'], [4, 'getData'], [5, 'setData'], [6, 'getACL'], [7, 'setACL'],
  [8, 'getChildren'], [9, 'sync'], [11, 'ping'], [12, 'getChildren2'], [13, 'check'], [14, 'multi'],
  [15, 'create2'], [16, 'reconfig'], [17, 'checkWatches'], [18, 'removeWatches'], [19, 'createContainer'],
  [20, 'deleteContainer'], [21, 'createTtl'], [22, 'multiRead'], [100, 'auth'], [101, 'setWatches'],
  [102, 'sasl'], [103, 'getEphemerals'], [104, 'getAllChildrenNumber'], [105, 'setWatches2'], [107, 'whoAmI'],
]);

export function javaOpName(type: number): string {
  return OP_NAMES.get(type) ?? `unknown ${type}`;
}

/** ToStringOutputArchive.escapeString: the quote mark, then %-escapes of \0 \n \r , } %. */
export function juteEscapeString(s: string | null): string {
  if (s === null) return '';
  return "'" + s.replace(/[\0\n\r,}%]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** ToStringOutputArchive.escapeBuffer: '#' and Integer.toHexString of each (signed) byte. */
export function juteEscapeBuffer(b: Buffer | null): string {
  if (b === null || b.length === 0) return '';
  let out = '#';
  for (const byte of b) out += ((byte << 24) >> 24 >>> 0).toString(16);
  return out;
}

/** Jackson's JsonStringEncoder.quoteAsString (what SnapshotFormatter -json uses for names). */
export function jacksonQuote(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20) out += s[i];
    else if (c === 0x08) out += '\\b';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0d) out += '\\r';
    else out += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** String.hashCode(). */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Long.hashCode(). */
export function javaLongHash(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  return Number((u ^ (u >> 32n)) & 0xffffffffn) | 0;
}

/**
 * The iteration order of a java.util.HashMap (or HashSet) after `keys` were put into an empty one
 * of the given initial capacity, in that order, with no removals: buckets by index, insertion
 * order within a bucket, through the same resizes (load factor 0.75, and a resize instead of a
 * tree bin while the table is under 64). Bins that Java would turn into trees (9 colliding keys
 * in a table of 64 or more) keep insertion order here, which Java does not promise.
 */
export function javaHashOrder<K>(keys: readonly K[], hashCode: (k: K) => number, initialCapacity = 16): K[] {
  let cap = 1;
  while (cap < initialCapacity) cap *= 2;
  let table: K[][] = Array.from({ length: cap }, () => []);
  const spread = (k: K): number => {
    const h = hashCode(k);
    return h ^ (h >>> 16);
  };
  const resize = (): void => {
    const next: K[][] = Array.from({ length: cap * 2 }, () => []);
    for (const bin of table) for (const k of bin) next[spread(k) & (cap * 2 - 1)]!.push(k);
    table = next;
    cap *= 2;
  };
  let size = 0;
  for (const k of keys) {
    const bin = table[spread(k) & (cap - 1)]!;
    bin.push(k);
    if (bin.length >= 9 && cap < 64) resize(); // treeifyBin on a small table resizes instead
    if (++size > cap * 0.75) resize();
  }
  return table.flat();
}
