// quota.ts — setquota, listquota and delquota as zkCli writes them: under /zookeeper/quota/<path>
// a zookeeper_limits node ("count=N,bytes=M", -1 for no limit) and a zookeeper_stats node with
// the subtree's current count and bytes. The server keeps the stats up to date afterwards.
import { type ZooKeeper, isZkError } from '../client/index.js';
import { type Command, CliError, type CommandContext, zk } from './commands.js';
import type { CommandLine } from './args.js';

const QUOTA_ROOT = '/zookeeper/quota';
const LIMITS = 'zookeeper_limits';
const STATS = 'zookeeper_stats';

/** StatsTrack(String): "key=value" pairs split on [,;]+; an empty value is -1. */
export function parseStatsTrack(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const part of text.split(/[,;]+/)) {
    if (part === '') continue;
    const [k, v] = part.split('=');
    m.set(k!, v === undefined || v === '' ? -1 : Number(v));
  }
  return m;
}

/**
 * StatsTrack.toString (3.8/3.9): count and bytes first; any other keys sorted after an extra "="
 * (which old parsers ignore), each as ";key=value".
 */
export function formatStatsTrack(m: Map<string, number>): string {
  let s = `count=${m.get('count') ?? -1},bytes=${m.get('bytes') ?? -1}`;
  const rest = [...m.keys()].filter((k) => k !== 'count' && k !== 'bytes').sort();
  if (rest.length > 0) s += `=${rest.map((k) => `;${k}=${m.get(k)}`).join('')}`;
  return s;
}

async function ignoreExists(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isZkError(e, 'ZNODEEXISTS')) throw e;
  }
}

async function readTrack(z: ZooKeeper, node: string): Promise<Map<string, number> | null> {
  try {
    return parseStatsTrack((await z.getData(node)).data.toString('utf8'));
  } catch (e) {
    if (isZkError(e, 'ZNONODE')) return null;
    throw e;
  }
}

const LIMIT_KEYS: Record<string, string> = { n: 'count', b: 'bytes', N: 'countHardLimit', B: 'byteHardLimit' };

export const setquota: Command = {
  usage: 'setquota -n|-b|-N|-B val path', spec: 'n:b:N:B:', min: 1, max: 1,
  // SetQuotaCommand.exec and createQuota
  async run(ctx: CommandContext, cl: CommandLine) {
    const path = cl.args[0]!;
    if (path.startsWith(QUOTA_ROOT)) {
      ctx.err(`cannot set a quota under the path: ${QUOTA_ROOT}`);
      return { path, set: false };
    }
    const quota = new Map([['count', -1], ['bytes', -1], ['countHardLimit', -1], ['byteHardLimit', -1]]);
    for (const [k, v] of cl.opts) {
      const n = Number(v);
      if (!Number.isInteger(n)) {
        ctx.err('NumberFormatException happens when parsing the option value');
        return { path, set: false };
      }
      if ((k === 'n' || k === 'N') && n <= 0) {
        ctx.err('the num quota must be greater than zero');
        return { path, set: false };
      }
      if ((k === 'b' || k === 'B') && n < 0) {
        ctx.err('the bytes quota must be greater than or equal to zero');
        return { path, set: false };
      }
      quota.set(LIMIT_KEYS[k]!, n);
    }
    if (cl.opts.size === 0) {
      ctx.err(this.usage);
      return { path, set: false };
    }
    const z = ctx.zk;
    if ((await zk(() => z.exists(path))) === null) throw new CliError(`${path} does not exist.`);
    await zk(async () => {
      for (const p of ['/zookeeper', QUOTA_ROOT]) await ignoreExists(z.create(p, null));
      let quotaPath = QUOTA_ROOT;
      for (const part of path.split('/').slice(1)) {
        quotaPath += `/${part}`;
        if ((await z.exists(quotaPath)) === null) await ignoreExists(z.create(quotaPath, null));
      }
      const statPath = `${quotaPath}/${STATS}`;
      const limitPath = `${quotaPath}/${LIMITS}`;
      let limits: Map<string, number>;
      if ((await z.exists(limitPath)) === null) {
        await z.create(limitPath, formatStatsTrack(quota));
        await z.create(statPath, 'count=0,bytes=0');
        limits = parseStatsTrack((await z.getData(limitPath)).data.toString('utf8'));
      } else {
        limits = parseStatsTrack((await z.getData(limitPath)).data.toString('utf8'));
        for (const [k, v] of quota) if (v > -1) limits.set(k, v);
      }
      const stats = parseStatsTrack((await z.getData(statPath)).data.toString('utf8'));
      checkQuota(ctx, limits, stats);
      if (limits !== quota) await z.setData(limitPath, formatStatsTrack(limits));
    });
    return { path, set: true };
  },
};

/** SetQuotaCommand.checkQuota: warns when a limit is already below what the subtree holds. */
function checkQuota(ctx: CommandContext, q: Map<string, number>, s: Map<string, number>): void {
  const v = (m: Map<string, number>, k: string): number => m.get(k) ?? -1;
  const count = v(s, 'count');
  const bytes = v(s, 'bytes');
  if ((v(q, 'count') > -1 && v(q, 'count') < count) || (v(q, 'countHardLimit') > -1 && v(q, 'countHardLimit') < count)) {
    ctx.out(`[Warning]: the count quota you create is less than the existing count:${count}`);
  }
  if ((v(q, 'bytes') > -1 && v(q, 'bytes') < bytes) || (v(q, 'byteHardLimit') > -1 && v(q, 'byteHardLimit') < bytes)) {
    ctx.out(`[Warning]: the bytes quota you create is less than the existing bytes:${bytes}`);
  }
}

export const listquota: Command = {
  usage: 'listquota path', spec: '', min: 1, max: 1,
  async run(ctx, cl) {
    const path = cl.args[0]!;
    const absolute = `${QUOTA_ROOT}${path}/${LIMITS}`;
    ctx.err(`absolute path is ${absolute}`);
    const limits = await readTrack(ctx.zk, absolute);
    if (limits === null) {
      ctx.err(`quota for ${path} does not exist.`);
      return { path, quota: null };
    }
    const stats = await readTrack(ctx.zk, `${QUOTA_ROOT}${path}/${STATS}`);
    ctx.out(`Output quota for ${path} ${formatStatsTrack(limits)}`);
    if (stats !== null) ctx.out(`Output stat for ${path} ${formatStatsTrack(stats)}`);
    return { path, quota: formatStatsTrack(limits), stat: stats === null ? null : formatStatsTrack(stats) };
  },
};

export const delquota: Command = {
  usage: 'delquota [-n|-b|-N|-B] path', spec: 'nbNB', min: 1, max: 1,
  async run(ctx, cl) {
    const path = cl.args[0]!;
    const quotaPath = QUOTA_ROOT + path;
    const limitsNode = `${quotaPath}/${LIMITS}`;
    const limits = await readTrack(ctx.zk, limitsNode);
    if (limits === null) {
      ctx.err(`quota for ${path} does not exist.`);
      return { path, deleted: false };
    }
    const which = [...cl.opts.keys()];
    if (which.length === 0) {
      for (const n of [limitsNode, `${quotaPath}/${STATS}`]) await ctx.zk.delete(n).catch(() => undefined);
      // Remove the quota path's empty ancestors, as zkCli's trimProcQuotas does.
      let p = quotaPath;
      while (p !== QUOTA_ROOT) {
        if ((await ctx.zk.getChildren(p).catch(() => ['?'])).length > 0) break;
        await ctx.zk.delete(p).catch(() => undefined);
        p = p.substring(0, p.lastIndexOf('/'));
      }
      return { path, deleted: true };
    }
    for (const k of which) limits.set(LIMIT_KEYS[k]!, -1);
    await ctx.zk.setData(limitsNode, formatStatsTrack(limits));
    return { path, limits: formatStatsTrack(limits) };
  },
};
