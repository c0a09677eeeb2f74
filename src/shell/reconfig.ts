// reconfig.ts — zkCli's reconfig: incremental (-add, -remove) or non-incremental (-members, or
// -file with a config file's server.N lines) membership changes; -v is the expected config
// version in hex, -s prints the new config's stat. Prints "Committed new configuration:" and the
// configuration ZooKeeper answers with.
import { readFileSync } from 'node:fs';
import type { CommandLine } from './args.js';
import { type Command, type CommandContext, CliError, zk } from './commands.js';
import { statJson, statLines } from './format.js';

const LONG = new Set(['-file', '-members', '-add', '-remove']);

export const reconfig: Command = {
  usage: 'reconfig [-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]',
  spec: 'sv:', min: 2, max: 4,
  async run(ctx: CommandContext, cl: CommandLine) {
    const long = new Map<string, string>();
    for (let i = 0; i < cl.args.length; i += 2) {
      const k = cl.args[i]!;
      const v = cl.args[i + 1];
      if (!LONG.has(k) || v === undefined) throw new CliError(this.usage);
      long.set(k.substring(1), v);
    }
    const incremental = long.has('add') || long.has('remove');
    if (incremental && (long.has('members') || long.has('file'))) {
      throw new CliError('Can\'t use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)');
    }
    let members = long.get('members');
    const file = long.get('file');
    if (file !== undefined) {
      if (members !== undefined) throw new CliError('Can\'t use -file and -members together (conflicting non-incremental modes)');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new CliError(`Error processing ${file}${(e as Error).message}`);
      }
      members = text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('server.')).join(',');
    }
    const v = cl.opts.get('v');
    let fromConfig: bigint | undefined;
    if (v !== undefined) {
      if (!/^[0-9a-fA-F]+$/.test(v)) throw new CliError(`For input string: "${v}"`);
      fromConfig = BigInt(`0x${v}`);
    }
    const { data, stat } = await zk(() => ctx.zk.reconfig({
      ...(long.has('add') ? { joining: long.get('add')! } : {}),
      ...(long.has('remove') ? { leaving: long.get('remove')! } : {}),
      ...(members !== undefined ? { newMembers: members } : {}),
      ...(fromConfig !== undefined ? { fromConfig } : {}),
    }));
    const text = data.toString('utf8');
    ctx.out(`Committed new configuration:\n${text}`);
    if (cl.opts.has('s')) ctx.out(statLines(stat).join('\n'));
    return { config: text, stat: statJson(stat) };
  },
};
