// config-env.ts — the environment variables of the official "zookeeper" Docker image, turned into
// zoo.cfg text exactly as the image's docker-entrypoint.sh does it (github.com/31z4/zookeeper-docker,
// 3.9.4/docker-entrypoint.sh), so `zkts server` without a file starts like that image:
//
//   dataDir, dataLogDir, tickTime, initLimit, syncLimit, autopurge.snapRetainCount,
//   autopurge.purgeInterval, maxClientCnxns, standaloneEnabled, admin.enableServer from
//   ZOO_DATA_DIR ... ZOO_ADMINSERVER_ENABLED (the Dockerfile's ENV gives their defaults);
//   one line per word of ZOO_SERVERS, or server.1=localhost:2888:3888;2181 when it is empty;
//   4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST when that is not empty;
//   one line per word of ZOO_CFG_EXTRA.
//
// Note what the image does not write: a clientPort. The client port is the ";2181" of this
// server's server.N line, found through myid, which the image writes into dataDir (ZOO_MY_ID,
// default 1) when dataDir has none. The image also keeps an existing $ZOO_CONF_DIR/zoo.cfg
// instead of generating one; both of these are left to the caller.

/** The Dockerfile's ENV: used for every variable the environment does not set. */
export const DOCKER_IMAGE_DEFAULTS: Readonly<Record<string, string>> = {
  ZOO_CONF_DIR: '/conf',
  ZOO_DATA_DIR: '/data',
  ZOO_DATA_LOG_DIR: '/datalog',
  ZOO_LOG_DIR: '/logs',
  ZOO_TICK_TIME: '2000',
  ZOO_INIT_LIMIT: '5',
  ZOO_SYNC_LIMIT: '2',
  ZOO_AUTOPURGE_PURGEINTERVAL: '0',
  ZOO_AUTOPURGE_SNAPRETAINCOUNT: '3',
  ZOO_MAX_CLIENT_CNXNS: '60',
  ZOO_STANDALONE_ENABLED: 'true',
  ZOO_ADMINSERVER_ENABLED: 'true',
};

export const DOCKER_DEFAULT_SERVERS = 'server.1=localhost:2888:3888;2181';

export interface EnvConfig {
  /** The zoo.cfg the entrypoint would write. */
  text: string;
  /** What the entrypoint writes to dataDir/myid when that file does not exist. */
  myid: string;
  /** $ZOO_DATA_DIR: where myid goes. */
  dataDir: string;
  /** $ZOO_CONF_DIR: the image uses $ZOO_CONF_DIR/zoo.cfg instead when it exists. */
  confDir: string;
}

/** Whether the environment sets any of the image's variables (so a file-less start should use them). */
export function hasDockerEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  return Object.keys(env).some((name) => name.startsWith('ZOO_'));
}

export function configFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  defaults: Readonly<Record<string, string>> = DOCKER_IMAGE_DEFAULTS,
): EnvConfig {
  // "$VAR": the environment's value, else the Dockerfile's ENV, else empty
  const v = (name: string): string => env[name] ?? defaults[name] ?? '';
  const lines = [
    `dataDir=${v('ZOO_DATA_DIR')}`,
    `dataLogDir=${v('ZOO_DATA_LOG_DIR')}`,
    `tickTime=${v('ZOO_TICK_TIME')}`,
    `initLimit=${v('ZOO_INIT_LIMIT')}`,
    `syncLimit=${v('ZOO_SYNC_LIMIT')}`,
    `autopurge.snapRetainCount=${v('ZOO_AUTOPURGE_SNAPRETAINCOUNT')}`,
    `autopurge.purgeInterval=${v('ZOO_AUTOPURGE_PURGEINTERVAL')}`,
    `maxClientCnxns=${v('ZOO_MAX_CLIENT_CNXNS')}`,
    `standaloneEnabled=${v('ZOO_STANDALONE_ENABLED')}`,
    `admin.enableServer=${v('ZOO_ADMINSERVER_ENABLED')}`,
  ];
  const servers = v('ZOO_SERVERS');
  lines.push(...words(servers === '' ? DOCKER_DEFAULT_SERVERS : servers));
  const whitelist = v('ZOO_4LW_COMMANDS_WHITELIST');
  if (whitelist !== '') lines.push(`4lw.commands.whitelist=${whitelist}`);
  lines.push(...words(v('ZOO_CFG_EXTRA')));
  const myid = v('ZOO_MY_ID');
  return {
    text: lines.join('\n') + '\n',
    myid: myid === '' ? '1' : myid,
    dataDir: v('ZOO_DATA_DIR'),
    confDir: v('ZOO_CONF_DIR'),
  };
}

/** Bash word splitting with the default IFS, as in `for server in $ZOO_SERVERS`. */
function words(s: string): string[] {
  return s.split(/[ \t\n]+/).filter((w) => w !== '');
}
