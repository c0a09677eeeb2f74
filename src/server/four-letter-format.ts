// four-letter-format.ts — values printed the way Java prints them, because the four-letter words
// are Java's PrintWriter output and tools parse it: Double.toString ("0.0", "2.3913", "1.0E-4"),
// Long.toHexString (two's complement, so -1 is "ffffffffffffffff"), Date.toString
// ("Thu Nov 26 17:13:55 UTC 2026") and InetSocketAddress.toString ("/127.0.0.1:2181").

const U64 = (1n << 64n) - 1n;

/** Java's Long.toHexString: lowercase, no leading zeros, negative values as unsigned 64-bit. */
export function formatJavaHex(value: bigint | number): string {
  return (BigInt(value) & U64).toString(16);
}

/** A Java long: ZooKeeper's counts, sizes and milliseconds are integers; a fraction is truncated. */
export function formatJavaLong(value: number): string {
  return Number.isFinite(value) ? String(Math.trunc(value)) : '0';
}

/** Java's Double.toString for finite values: always a fraction, E notation outside [1e-3, 1e7). */
export function formatJavaDouble(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(value);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(value);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa = '', exponent = ''] = value.toExponential().split('e');
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}E${exponent.replace('+', '')}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

function zoneAbbreviation(date: Date): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date);
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
}

/** Java's Date.toString in the process's time zone: "EEE MMM dd HH:mm:ss zzz yyyy". */
export function formatJavaDate(epochMs: number): string {
  const d = new Date(epochMs);
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${time} ` +
    `${zoneAbbreviation(d)} ${d.getFullYear()}`;
}

/** Java's textual IPv6 form: eight groups, lowercase hex, no zero compression, zone kept. */
function expandIPv6(address: string): string {
  const [addr = '', zone] = address.split('%');
  let head = addr;
  let tail = '';
  const dbl = addr.indexOf('::');
  if (dbl >= 0) {
    head = addr.slice(0, dbl);
    tail = addr.slice(dbl + 2);
  }
  const toGroups = (part: string): string[] => {
    if (part === '') return [];
    const groups: string[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const b = g.split('.').map(Number);
        groups.push((((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16), (((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16));
      } else {
        groups.push(parseInt(g, 16).toString(16));
      }
    }
    return groups;
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  const middle = dbl >= 0 ? new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0') : [];
  const text = [...h, ...middle, ...t].join(':');
  return zone === undefined ? text : `${text}%${zone}`;
}

/**
 * Java's InetSocketAddress.toString for an accepted socket's peer: "/127.0.0.1:5000",
 * "/[0:0:0:0:0:0:0:1]:5000". IPv4-mapped IPv6 addresses print as IPv4, as Java reports them.
 * An unknown address (a closed socket) prints "null".
 */
export function formatJavaSocketAddress(address: string | undefined, port: number): string {
  if (address === undefined || address === '') return 'null';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return `/${mapped[1]}:${port}`;
  if (address.includes(':')) return `/[${expandIPv6(address)}]:${port}`;
  return `/${address}:${port}`;
}
