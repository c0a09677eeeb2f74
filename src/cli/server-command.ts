// server-command.ts — `zkts server [zoo.cfg]`: read the config, start the server, stop cleanly
// on SIGINT/SIGTERM.
import { readFileSync } from 'node:fs';
import { ZktsError } from '../errors.js';
import { parseProperties } from '../server/config-parse.js';
import { ZkServer, type ServerOptions } from '../server/zk-server.js';
import { fourLetterWordHandler } from '../server/four-letter-host.js';
import { parseFourLetterWhitelist } from '../server/four-letter.js';

function intKey(props: Map<string, string>, key: string, dflt: number): number {
  const v = props.get(key);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ZktsError('ZKTS_ERR_CONFIG', `${key}: "${v}" is not an integer`);
  return n;
}

/** Interim mapping from zoo.cfg keys to server options. */
export function optionsFromConfigText(text: string, file: string): ServerOptions {
  const props = new Map<string, string>();
  for (const l of parseProperties(text, `${file}:`)) props.set(l.key, l.value);
  const prop = (k: string): string | undefined => props.get(k) ?? props.get(`zookeeper.${k}`);
  const tickTime = intKey(props, 'tickTime', 3000);
  const minS = intKey(props, 'minSessionTimeout', -1);
  const maxS = intKey(props, 'maxSessionTimeout', -1);
  return {
    host: props.get('clientPortAddress') ?? '0.0.0.0',
    port: intKey(props, 'clientPort', 2181),
    tickTime,
    minSessionTimeout: minS === -1 ? 2 * tickTime : minS,
    maxSessionTimeout: maxS === -1 ? 20 * tickTime : maxS,
    maxClientCnxns: intKey(props, 'maxClientCnxns', 60),
    maxFrameBytes: Number(prop('jute.maxbuffer') ?? 0xfffff),
    extendedTypesEnabled: prop('extendedTypesEnabled') === 'true',
    reconfigEnabled: props.get('reconfigEnabled') === 'true',
    superDigest: prop('DigestAuthenticationProvider.superDigest'),
    containerCheckIntervalMs: Number(prop('znode.container.checkIntervalMs') ?? 60000),
    containerMaxNeverUsedIntervalMs: Number(prop('znode.container.maxNeverUsedIntervalMs') ?? 0),
    serverId: 1,
    fourLetterWord: fourLetterWordHandler({
      whitelist: parseFourLetterWhitelist(props.get('4lw.commands.whitelist') ?? prop('4lw.commands.whitelist')),
      dataDir: props.get('dataDir') ?? 'data',
      dataLogDir: props.get('dataLogDir') ?? props.get('dataDir') ?? 'data',
      zktsVersion: '0.1.0',
    }),
  };
}

export async function runServer(args: string[]): Promise<number> {
  const file = args[0] ?? 'conf/zoo.cfg';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ZktsError('ZKTS_ERR_CONFIG_FILE', `cannot read config file ${file}: ${(e as Error).message}`);
  }
  const server = new ZkServer(optionsFromConfigText(text, file));
  try {
    await server.start();
  } catch (e) {
    throw new ZktsError('ZKTS_ERR_LISTEN', `cannot listen on ${server.opts.host}:${server.opts.port}: ${(e as Error).message}`);
  }
  const stop = (): void => {
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return 0;
}
