// quota.ts — ZooKeeper's quotas: a quota on /a/b lives in /zookeeper/quota/a/b/zookeeper_limits
// ("count=N,bytes=M[=;countHardLimit=..;byteHardLimit=..]") and its usage in .../zookeeper_stats,
// which apply keeps current on every create, delete and setData under /a/b (derived state, the
// same on every replica). Prep checks hard limits when enforceQuota is on.

export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMIT_NODE = 'zookeeper_limits';
export const STAT_NODE = 'zookeeper_stats';

export const limitPath = (path: string): string => `${QUOTA_ROOT}${path}/${LIMIT_NODE}`;
export const statPath = (path: string): string => `${QUOTA_ROOT}${path}/${STAT_NODE}`;

/** StatsTrack: "count=1,bytes=2" plus ";key=value" extras; missing values read as -1. */
export class StatsTrack {
  readonly values = new Map<string, bigint>();

  constructor(text: string | null = '') {
    if (text === null || text.length === 0) return;
    for (const pair of text.split(/[,;]+/)) {
      if (pair === '') continue;
      const [k, v] = pair.split('=');
      if (k === undefined) continue;
      const n = v === undefined || v === '' ? -1n : parseLong(v);
      this.values.set(k, n);
    }
  }

  get(key: string): bigint {
    return this.values.get(key) ?? -1n;
  }

  set(key: string, v: bigint): void {
    this.values.set(key, v);
  }

  toString(): string {
    let out = `count=${this.get('count')},bytes=${this.get('bytes')}`;
    const extras = [...this.values.keys()].filter((k) => k !== 'count' && k !== 'bytes').sort();
    if (extras.length > 0) {
      out += '=';
      for (const k of extras) out += `;${k}=${this.values.get(k)}`;
    }
    return out;
  }
}

function parseLong(v: string): bigint {
  try {
    return BigInt(v.trim());
  } catch {
    return -1n;
  }
}

/** The quota'd paths (ZooKeeper's PathTrie of limit nodes) and the longest-prefix lookup. */
export class QuotaIndex {
  private readonly paths = new Set<string>();

  add(path: string): void {
    this.paths.add(path);
  }

  delete(path: string): void {
    this.paths.delete(path);
  }

  clear(): void {
    this.paths.clear();
  }

  get size(): number {
    return this.paths.size;
  }

  /** The deepest quota'd path that is `path` or one of its ancestors, or null. */
  maxPrefix(path: string): string | null {
    if (this.paths.size === 0) return null;
    for (let p = path; p.length > 1; p = p.substring(0, p.lastIndexOf('/')) || '/') {
      if (this.paths.has(p)) return p;
    }
    return null;
  }
}

/** What a write would do to a quota: the message to log, and whether it is refused. */
export function quotaCheck(
  prefix: string,
  limits: StatsTrack,
  usage: StatsTrack,
  countDiff: bigint,
  bytesDiff: bigint,
): { message: string; hard: boolean } | null {
  const checks: [string, bigint, string, string][] = [
    ['count', countDiff, 'count', 'countHardLimit'],
    ['bytes', bytesDiff, 'bytes', 'byteHardLimit'],
  ];
  for (const [what, diff, soft, hardKey] of checks) {
    if (diff === 0n) continue;
    const hardLimit = limits.get(hardKey);
    const isHard = hardLimit > -1n;
    const limit = isHard ? hardLimit : limits.get(soft);
    if (!isHard && limit <= -1n) continue;
    const next = usage.get(soft) + diff;
    if (next > limit) {
      const kind = what === 'count' ? (isHard ? 'hardCountLimit' : 'softCountLimit') : isHard ? 'hardByteLimit' : 'softByteLimit';
      return { message: `Quota exceeded: ${prefix} [current ${what}=${next}, ${kind}=${limit}]`, hard: isHard };
    }
  }
  return null;
}
