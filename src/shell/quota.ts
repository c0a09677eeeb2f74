// quota.ts — setquota, listquota and delquota as zkCli writes them: under /zookeeper/quota/<path>
// a zookeeper_limits node ("count=N,bytes=M", -1 for no limit) and a zookeeper_stats node with
// the subtree's current count and bytes. The server keeps the stats up to date afterwards.
import { type ZooKeeper, isZkError } from '../client/index.js';
import { type Command, CliError, type CommandContext } from './commands.js';
import type { CommandLine } from './args.js';

const QUOTA_ROOT = '/zookeeper/quota';
const LIMITS = 'zookeeper_limits';
const STATS = 'zookeeper_stats';

/** StatsTrack's "key=value,…" text as a map. */
export function parseStatsTrack(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const part of text.split(/[,;]/)) {
    const eq = part.indexOf('=');
    if (eq > 0) m.set(part.substring(0, eq).trim(), Number(part.substring(eq + 1)));
  }
  return m;
}

export function formatStatsTrack(m: Map<string, number>): string {
  const count = m.get('count') ?? -1;
  const bytes = m.get('bytes') ?? -1;
  let s = `count=${count},bytes=${bytes}`;
  const ch = m.get('countHardLimit');
  const bh = m.get('byteHardLimit');
  if ((ch !== undefined && ch !== -1) || (bh !== undefined && bh !== -1)) s += `,countHardLimit=${ch ?? -1},byteHardLimit=${bh ?? -1}`;
  return s;
}

async function ignoreExists(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isZkError(e, 'ZNODEEXISTS')) throw e;
  }
}

async function usage(z: ZooKeeper, path: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  const queue = [path];
  while (queue.length > 0) {
    const p = queue.shift()!;
    const { data } = await z.getData(p);
    count++;
    bytes += data.length;
    for (const c of await z.getChildren(p)) queue.push(p === '/' ? `/${c}` : `${p}/${c}`);
  }
  return { count, bytes };
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

function checkPath(path: string): void {
  if (path.startsWith(QUOTA_ROOT)) throw new CliError(`cannot set a quota under the path: ${QUOTA_ROOT}`);
}

export const setquota: Command = {
  usage: 'setquota -n|-b|-N|-B val path', spec: 'n:b:N:B:', min: 1, max: 1,
  async run(ctx: CommandContext, cl: CommandLine) {
    const path = cl.args[0]!;
    checkPath(path);
    const given = [...cl.opts.entries()];
    if (given.length === 0) throw new CliError(this.usage);
    const z = ctx.zk;
    const now = await usage(z, path).catch((e: unknown) => {
      if (isZkError(e, 'ZNONODE')) throw new CliError(`Node does not exist: ${path}`);
      throw e;
    });
    const quotaPath = QUOTA_ROOT + path;
    let p = '';
    for (const part of quotaPath.split('/').slice(1)) {
      p += `/${part}`;
      await ignoreExists(z.create(p, null));
    }
    const limits = (await readTrack(z, `${quotaPath}/${LIMITS}`)) ?? new Map([['count', -1], ['bytes', -1]]);
    for (const [k, v] of given) {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new CliError('NumberFormatException happens when parsing the option value');
      if ((k === 'n' || k === 'N') && n <= 0) throw new CliError('the num quota must be greater than zero');
      if ((k === 'b' || k === 'B') && n < 0) throw new CliError('the bytes quota must be greater than or equal to zero');
      limits.set(LIMIT_KEYS[k]!, n);
    }
    const stats = formatStatsTrack(new Map([['count', now.count], ['bytes', now.bytes]]));
    await ignoreExists(z.create(`${quotaPath}/${STATS}`, stats));
    const text = formatStatsTrack(limits);
    await ignoreExists(z.create(`${quotaPath}/${LIMITS}`, text));
    await z.setData(`${quotaPath}/${LIMITS}`, text);
    const count = limits.get('count') ?? -1;
    const bytes = limits.get('bytes') ?? -1;
    if (count !== -1 && count < now.count) ctx.out(`[Warning]: the count quota you create is less than the existing count:${now.count}`);
    if (bytes !== -1 && bytes < now.bytes) ctx.out(`[Warning]: the bytes quota you create is less than the existing bytes:${now.bytes}`);
    return { path, limits: text };
  },
};

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
