// commands.ts — zkCli's znode commands (the CliCommand classes of ZooKeeper 3.8/3.9): each parses
// its options, calls the client, prints what zkCli prints and returns a value for `-w json`.
// Failures are thrown as CliError with zkCli's message; the shell prints it on stderr.
import { type CreateMode, type ZooKeeper, Ids, isZkError } from '../client/index.js';
import { type CommandLine, parseCommandOptions } from './args.js';
import { aclLines, parseAcl, statJson, statLines, zkErrorMessage } from './format.js';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

export interface CommandContext {
  zk: ZooKeeper;
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  usage: string;
  /** Option letters, ':' after a letter that takes a value. */
  spec: string;
  /** Positional arguments needed (min) and allowed (max). */
  min: number;
  max: number;
  run(ctx: CommandContext, cl: CommandLine): Promise<unknown>;
}

/** Runs `fn`, turning ZooKeeper errors into zkCli's messages. */
export async function zk<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isZkError(e)) throw new CliError(zkErrorMessage(e));
    throw e;
  }
}

const list = (xs: readonly string[]): string => `[${xs.join(', ')}]`;
const version = (cl: CommandLine): number => {
  const v = cl.opts.get('v');
  if (v === undefined) return -1;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliError(`For input string: "${v}"`);
  return n;
};

/** The nodes of the subtree at `path`, breadth first, children sorted (ZKUtil.listSubTreeBFS). */
async function subtree(z: ZooKeeper, path: string): Promise<string[]> {
  const out = [path];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    const children = (await z.getChildren(p)).sort();
    for (const c of children) out.push(p === '/' ? `/${c}` : `${p}/${c}`);
  }
  return out;
}

const ls: Command = {
  usage: 'ls [-s] [-w] [-R] path', spec: 'swR', min: 1, max: 1,
  async run(ctx, cl) {
    const path = cl.args[0]!;
    const watch = cl.opts.has('w');
    if (cl.opts.has('R')) {
      const nodes = await zk(() => subtree(ctx.zk, path));
      for (const n of nodes) ctx.out(n);
      return { paths: nodes };
    }
    const { children, stat } = await zk(() => ctx.zk.getChildrenWithStat(path, { watch }));
    children.sort();
    ctx.out(list(children));
    if (cl.opts.has('s')) ctx.out(statLines(stat).join('\n'));
    return cl.opts.has('s') ? { children, stat: statJson(stat) } : { children };
  },
};

const get: Command = {
  usage: 'get [-s] [-w] [-b] [-x] path', spec: 'swbx', min: 1, max: 1,
  async run(ctx, cl) {
    const path = cl.args[0]!;
    const { data, stat } = await zk(() => ctx.zk.getData(path, { watch: cl.opts.has('w') }));
    // The client cannot tell null data from empty data; zkCli prints "null" for the former.
    const bytes = data.length === 0 ? Buffer.from('null') : data;
    // 3.9's -b (Base64OutputFormatter) and -x (HexDumpOutputFormatter, Netty's prettyHexDump)
    const text = cl.opts.has('b') ? bytes.toString('base64') : cl.opts.has('x') ? hexDump(bytes) : bytes.toString('utf8');
    ctx.out(text);
    if (cl.opts.has('s')) ctx.out(statLines(stat).join('\n'));
    return { data: data.length === 0 ? null : data.toString('utf8'), stat: statJson(stat) };
  },
};

const HEX_RULE = '+--------+-------------------------------------------------+----------------+';

/** Netty's ByteBufUtil.prettyHexDump (3.9's HexDumpOutputFormatter): a boxed table, 16 bytes a row. */
export function hexDump(data: Uint8Array): string {
  if (data.length === 0) return '';
  let out = `         +-------------------------------------------------+\n         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n${HEX_RULE}`;
  for (let off = 0; off < data.length; off += 16) {
    const row = data.subarray(off, off + 16);
    const hexes = [...row].map((b) => ` ${b.toString(16).padStart(2, '0')}`).join('');
    const chars = [...row].map((b) => (b <= 0x1f || b >= 0x7f ? '.' : String.fromCharCode(b))).join('');
    const missing = 16 - row.length;
    out += `\n|${off.toString(16).padStart(8, '0')}|${hexes}${'   '.repeat(missing)} |${chars}${' '.repeat(missing)}|`;
  }
  return `${out}\n${HEX_RULE}`;
}

function createMode(cl: CommandLine): CreateMode {
  const e = cl.opts.has('e');
  const s = cl.opts.has('s');
  const c = cl.opts.has('c');
  const t = cl.opts.has('t');
  if (c && (e || s)) throw new CliError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.');
  if (t && e) throw new CliError('TTLs cannot be used with Ephemeral znodes');
  if (t && c) throw new CliError('TTLs cannot be used with Container znodes');
  if (c) return 'container';
  if (t) return s ? 'persistentSequentialWithTTL' : 'persistentWithTTL';
  if (e) return s ? 'ephemeralSequential' : 'ephemeral';
  return s ? 'persistentSequential' : 'persistent';
}

const create: Command = {
  usage: 'create [-s] [-e] [-c] [-t ttl] path [data] [acl]', spec: 'sect:', min: 1, max: 3,
  async run(ctx, cl) {
    const [path, data, aclText] = cl.args as [string, string | undefined, string | undefined];
    const mode = createMode(cl);
    let ttlMs: number | undefined;
    if (cl.opts.has('t')) {
      ttlMs = Number(cl.opts.get('t'));
      if (!Number.isInteger(ttlMs)) throw new CliError(`For input string: "${cl.opts.get('t')}"`);
    }
    const acl = aclText === undefined ? Ids.OPEN_ACL_UNSAFE : parseAcl(aclText, (m) => ctx.err(m));
    if (acl.length === 0) {
      // The Java client refuses an empty ACL before sending, with a KeeperException without a path.
      ctx.err('KeeperErrorCode = InvalidACL');
      throw new CliError('Acl is not valid : null');
    }
    const created = await zk(() => ctx.zk.create(path, data ?? null, { mode, acl, ...(ttlMs === undefined ? {} : { ttlMs }) }));
    ctx.out(`Created ${created}`);
    return { path: created };
  },
};

const set: Command = {
  usage: 'set [-s] [-v version] path data', spec: 'sv:', min: 2, max: 2,
  async run(ctx, cl) {
    const [path, data] = cl.args as [string, string];
    const stat = await zk(() => ctx.zk.setData(path, data, { version: version(cl) }));
    if (cl.opts.has('s')) ctx.out(statLines(stat).join('\n'));
    return { stat: statJson(stat) };
  },
};

const stat: Command = {
  usage: 'stat [-w] path', spec: 'w', min: 1, max: 1,
  async run(ctx, cl) {
    const path = cl.args[0]!;
    const s = await zk(() => ctx.zk.exists(path, { watch: cl.opts.has('w') }));
    if (s === null) throw new CliError(`Node does not exist: ${path}`);
    ctx.out(statLines(s).join('\n'));
    return { stat: statJson(s) };
  },
};

const del: Command = {
  usage: 'delete [-v version] path', spec: 'v:', min: 1, max: 1,
  async run(ctx, cl) {
    const path = cl.args[0]!;
    await zk(() => ctx.zk.delete(path, { version: version(cl) }));
    return { deleted: path };
  },
};

const deleteall: Command = {
  usage: 'deleteall path [-b batch size]', spec: 'b:', min: 1, max: 1,
  async run(ctx, cl) {
    const path = cl.args[0]!;
    const nodes = await zk(() => subtree(ctx.zk, path));
    for (const n of nodes.reverse()) {
      await zk(() => ctx.zk.delete(n)).catch((e: unknown) => {
        if (!(e instanceof CliError && e.message.startsWith('Node does not exist'))) throw e;
      });
    }
    return { deleted: nodes };
  },
};

const sync: Command = {
  usage: 'sync path', spec: '', min: 1, max: 1,
  async run(ctx, cl) {
    try {
      await ctx.zk.sync(cl.args[0]!);
    } catch (e) {
      if (isZkError(e)) throw new CliError(`Sync has failed rc=${e.rc}`);
      throw e;
    }
    ctx.out('Sync is OK');
    return { ok: true };
  },
};

const getAllChildrenNumber: Command = {
  usage: 'getAllChildrenNumber path', spec: '', min: 1, max: 1,
  async run(ctx, cl) {
    const n = await zk(() => ctx.zk.getAllChildrenNumber(cl.args[0]!));
    ctx.out(String(n));
    return { number: n };
  },
};

const getEphemerals: Command = {
  usage: 'getEphemerals path', spec: '', min: 0, max: 1,
  async run(ctx, cl) {
    const eph = await zk(() => ctx.zk.getEphemerals(cl.args[0] ?? '/'));
    ctx.out(list(eph));
    return { ephemerals: eph };
  },
};

const WATCH_MODES: Record<string, 'persistent' | 'recursive'> = { PERSISTENT: 'persistent', PERSISTENT_RECURSIVE: 'recursive' };

const addWatch: Command = {
  usage: 'addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE',
  spec: 'm:', min: 1, max: 1,
  async run(ctx, cl) {
    const m = cl.opts.get('m') ?? 'PERSISTENT_RECURSIVE';
    const mode = WATCH_MODES[m];
    if (mode === undefined) throw new CliError(`Unsupported mode: ${m}`);
    await zk(() => ctx.zk.addWatch(cl.args[0]!, true, { mode }));
    return { path: cl.args[0], mode: m };
  },
};

const removewatches: Command = {
  usage: 'removewatches path [-c|-d|-p|-r|-a] [-l]', spec: 'cdpral', min: 1, max: 1,
  async run(ctx, cl) {
    const o = cl.opts;
    const type = o.has('c') ? 'children' : o.has('d') ? 'data' : o.has('p') ? 'persistent' : o.has('r') ? 'recursive' : 'any';
    await zk(() => ctx.zk.removeAllWatches(cl.args[0]!, type, { local: o.has('l') }));
    return { path: cl.args[0], type };
  },
};

const getAcl: Command = {
  usage: 'getAcl [-s] path', spec: 's', min: 1, max: 1,
  async run(ctx, cl) {
    const { acl, stat: s } = await zk(() => ctx.zk.getACL(cl.args[0]!));
    for (const l of aclLines(acl)) ctx.out(l);
    if (cl.opts.has('s')) ctx.out(statLines(s).join('\n'));
    return { acl: acl.map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: a.perms })), stat: statJson(s) };
  },
};

const setAcl: Command = {
  usage: 'setAcl [-s] [-v version] [-R] path acl', spec: 'sv:R', min: 2, max: 2,
  async run(ctx, cl) {
    const [path, text] = cl.args as [string, string];
    const acl = parseAcl(text, (m) => ctx.err(m));
    if (acl.length === 0) throw new CliError('Acl is not valid : null');
    if (cl.opts.has('R')) {
      const nodes = await zk(() => subtree(ctx.zk, path));
      for (const n of nodes) await zk(() => ctx.zk.setACL(n, acl, { version: version(cl) }));
      return { paths: nodes };
    }
    const s = await zk(() => ctx.zk.setACL(path, acl, { version: version(cl) }));
    if (cl.opts.has('s')) ctx.out(statLines(s).join('\n'));
    return { stat: statJson(s) };
  },
};

const addauth: Command = {
  usage: 'addauth scheme auth', spec: '', min: 1, max: 2,
  async run(ctx, cl) {
    await zk(() => ctx.zk.addAuth(cl.args[0]!, cl.args[1] ?? ''));
    return { scheme: cl.args[0] };
  },
};

const whoami: Command = {
  usage: 'whoami', spec: '', min: 0, max: 0,
  async run(ctx) {
    const infos = await zk(() => ctx.zk.whoAmI());
    ctx.out('Auth scheme: User');
    for (const i of infos) ctx.out(`${i.authScheme}: ${i.user}`);
    return { clientInfo: infos };
  },
};

const config: Command = {
  usage: 'config [-c] [-w] [-s]', spec: 'cws', min: 0, max: 0,
  async run(ctx, cl) {
    const { data, stat: s } = await zk(() => ctx.zk.getConfig({ watch: cl.opts.has('w') }));
    const text = data.toString('utf8');
    if (cl.opts.has('c')) {
      // ConfigUtils.getClientConfigStr: "version connectString"
      const lines = text.split('\n');
      const ver = lines.find((l) => l.startsWith('version='))?.substring(8) ?? '';
      const hosts = lines.filter((l) => l.startsWith('server.')).map((l) => {
        const client = l.split(';')[1];
        return client?.includes(':') === true ? client : '';
      }).filter((h) => h !== '');
      ctx.out(`${ver} ${hosts.join(',')}`);
    } else ctx.out(text);
    if (cl.opts.has('s')) ctx.out(statLines(s).join('\n'));
    return { config: text, stat: statJson(s) };
  },
};

export const NODE_COMMANDS: Record<string, Command> = {
  ls, get, create, set, stat, delete: del, deleteall, sync, getAllChildrenNumber, getEphemerals, addWatch, removewatches,
  getAcl, setAcl, addauth, whoami, config,
};

export function runCommand(ctx: CommandContext, cmd: Command, words: readonly string[]): Promise<unknown> {
  const parsed = parseCommandOptions(words, cmd.spec);
  if (!parsed.ok) throw new CliError(parsed.error);
  const n = parsed.value.args.length;
  if (n < cmd.min || n > cmd.max) throw new CliError(cmd.usage);
  return cmd.run(ctx, parsed.value);
}
