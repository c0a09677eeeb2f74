// commands.ts — ZooKeeper 3.9's AdminServer commands (org.apache.zookeeper.server.admin.Commands)
// for a standalone server: each name and alias, whether it needs a serving server or an
// authenticated caller, and what it answers. runCommand reproduces ZooKeeper's checks in its order
// (unknown name, not serving, auth) with its messages and HTTP statuses; the answer is a
// CommandResponse whose toMap() orders keys as ZooKeeper's does (data, then "command", "error").
import type { FileHandle } from 'node:fs/promises';
import { Perm } from '../protocol/opcodes.js';
import { checkAcl } from '../server/auth/digest.js';
import { ZK_NOT_SERVING, type FourLetterView } from '../server/four-letter.js';
import type { Id } from '../protocol/records.js';
import type { ZkServer } from '../server/zk-server.js';
import {
  connectionInfo, dumpValues, lastSnapshot, monitorValues, serverStats, systemProperties,
  watchesByPath, watchesBySession, watchSummary,
} from './command-data.js';
import type { Json } from './json.js';
import { restoreCommand, snapshotCommand, type SnapshotStorage } from './snapshot-commands.js';

export interface CommandContext {
  readonly server: ZkServer;
  /** The four-letter words' view of the live state, built for this request. */
  readonly view: FourLetterView;
  /** zoo.cfg as read at start (initial_configuration); null without a file. */
  readonly initialConfig: string | null;
  /** ServerConfig.properties: zookeeper.* keys from zoo.cfg and -D properties. */
  readonly properties: ReadonlyMap<string, string>;
  /** dataDir/version-2, where snapshots are. */
  readonly snapDir: string;
  /** The server's data directory, which snapshot writes to; absent for an in-memory server. */
  readonly storage?: SnapshotStorage | null;
}

/** What an HTTP request brings besides the command name. */
export interface CommandRequest {
  readonly method: 'GET' | 'POST';
  /** Query parameters, the first value of each (ZooKeeper's kwargs). */
  readonly kwargs: ReadonlyMap<string, string>;
  /** The Authorization header: "<scheme> <auth>" or "<scheme>". */
  readonly authorization: string | undefined;
  /** HTTPS: the client certificate the handshake verified, for the x509 scheme. Identity comes only
   * from it, the Authorization header and the socket's address, never other headers (CVE-2024-51504). */
  readonly peerCertificate?: Buffer;
  readonly remoteAddress: string;
  /** A POST's body, read whole when called (restore: a snapshot); unread, it is discarded. */
  readonly body?: () => Promise<Buffer>;
}

export class CommandResponse {
  readonly data = new Map<string, Json>();
  readonly headers = new Map<string, string>();
  /** StreamOutputter: when set, the answer is these bytes (application/octet-stream), not the JSON. */
  stream: FileHandle | null = null;
  constructor(
    readonly command: string,
    readonly error: string | null = null,
    public status = 200,
  ) {}

  /** CommandResponse.toMap: the data, then command and error (a data "error" keeps its place and value). */
  toMap(): Map<string, Json> {
    const m = new Map<string, Json>(this.data);
    m.set('command', this.command);
    m.set('error', this.error);
    for (const [k, v] of this.data) m.set(k, v);
    return m;
  }
}

interface Command {
  /** Primary name first. */
  readonly names: readonly string[];
  readonly method: 'GET' | 'POST';
  /** False for the few commands ZooKeeper answers while not serving. */
  readonly serverRequired: boolean;
  /** ALL on "/" for snapshot and restore, as in ZooKeeper 3.9. */
  readonly auth?: { readonly perm: number; readonly path: string };
  /** Fills `res`; may be async. Its return value is ignored. */
  run(ctx: CommandContext, req: CommandRequest, res: CommandResponse): unknown;
}

const AUTH_ALL_ON_ROOT = { perm: Perm.ALL, path: '/' };

function get(names: string[], run: Command['run'], serverRequired = true): Command {
  return { names, method: 'GET', serverRequired, run };
}

function put(res: CommandResponse, entries: Iterable<readonly [string, Json]> | { readonly [k: string]: Json }): void {
  const it = Symbol.iterator in entries ? (entries as Iterable<readonly [string, Json]>) : Object.entries(entries);
  for (const [k, v] of it) res.data.set(k, v);
}

function setTraceMask(ctx: CommandContext, req: CommandRequest, res: CommandResponse): void {
  const arg = req.kwargs.get('traceMask');
  if (arg === undefined) {
    res.data.set('error', 'setTraceMask requires long traceMask argument');
    return;
  }
  const mask = /^[+-]?\d+$/.test(arg) ? BigInt(arg) : null; // Long.parseLong
  if (mask === null || mask !== BigInt.asIntN(64, mask)) {
    res.data.set('error', `setTraceMask requires long traceMask argument, got ${arg}`);
    return;
  }
  ctx.view.setTraceMask(mask);
  res.data.set('tracemask', mask);
}

export const COMMANDS: readonly Command[] = [
  get(['connection_stat_reset', 'crst'], (ctx) => ctx.view.resetConnectionStats()),
  get(['configuration', 'conf', 'config'], (ctx, _req, res) => {
    const c = ctx.view.config();
    put(res, {
      client_port: c.clientPort, data_dir: c.snapDir, data_log_dir: c.txnLogDir, tick_time: c.tickTimeMs,
      max_client_cnxns: c.maxClientCnxns, min_session_timeout: c.minSessionTimeoutMs,
      max_session_timeout: c.maxSessionTimeoutMs, server_id: c.serverId,
      client_port_listen_backlog: c.clientPortListenBacklog,
    });
  }),
  get(['connections', 'cons'], (ctx, _req, res) => {
    put(res, { connections: ctx.view.connections().map((c) => connectionInfo(c, false)), secure_connections: [] });
  }),
  get(['hash'], (ctx, _req, res) => {
    const digests = (ctx.view.digestLog?.() ?? []).map((d) => ({
      zxid: d.zxid, digest_version: 2, digest: BigInt.asIntN(64, d.digest),
    }));
    res.data.set('digests', digests);
  }),
  get(['dirs'], (ctx, _req, res) => {
    const d = ctx.view.dirSizes();
    put(res, { datadir_size: d.txnLogDirBytes, logdir_size: d.snapDirBytes }); // ZooKeeper 3.8's swap, as the 4lw
  }),
  get(['dump'], (ctx, _req, res) => put(res, dumpValues(ctx.view, ctx.server.sessions))),
  get(['environment', 'env', 'envi'], (ctx, _req, res) => put(res, ctx.view.environment()), false),
  get(['get_trace_mask', 'gtmk'], (ctx, _req, res) => res.data.set('tracemask', ctx.view.traceMask()), false),
  get(['initial_configuration', 'icfg'], (ctx, _req, res) => res.data.set('initial_configuration', ctx.initialConfig)),
  get(['is_read_only', 'isro'], (ctx, _req, res) => res.data.set('read_only', ctx.view.readOnly())),
  get(['last_snapshot', 'lsnp'], async (ctx, _req, res) => put(res, await lastSnapshot(ctx.snapDir))),
  get(['leader', 'lead'], (_ctx, _req, res) => res.data.set('error', 'server is not initialized')),
  get(['monitor', 'mntr'], (ctx, _req, res) => put(res, monitorValues(ctx.view)), false),
  get(['observer_connection_stat_reset', 'orst'], () => {}),
  {
    names: ['restore', 'rest'],
    method: 'POST',
    serverRequired: true,
    auth: AUTH_ALL_ON_ROOT,
    run: restoreCommand,
  },
  get(['ruok'], () => {}),
  get(['set_trace_mask', 'stmk'], setTraceMask, false),
  {
    names: ['snapshot', 'snap'],
    method: 'GET',
    serverRequired: true,
    auth: AUTH_ALL_ON_ROOT,
    run: snapshotCommand,
  },
  get(['server_stats', 'srvr'], (ctx, _req, res) => srvr(ctx, res)),
  get(['stats', 'stat'], (ctx, _req, res) => {
    srvr(ctx, res);
    put(res, { connections: ctx.view.connections().map((c) => connectionInfo(c, true)), secure_connections: [] });
  }),
  get(['stat_reset', 'srst'], (ctx) => ctx.view.resetServerStats()),
  get(['observers', 'obsr'], (_ctx, _req, res) => put(res, { synced_observers: 0, observers: [] })),
  get(['system_properties', 'sysp'], (ctx, _req, res) => put(res, systemProperties(ctx.view, ctx.properties)), false),
  get(['voting_view'], (_ctx, _req, res) => res.data.set('current_config', new Map())),
  get(['watches', 'wchc'], (ctx, _req, res) => res.data.set('session_id_to_watched_paths', watchesBySession(ctx.view))),
  get(['watches_by_path', 'wchp'], (ctx, _req, res) => res.data.set('path_to_session_ids', watchesByPath(ctx.view))),
  get(['watch_summary', 'wchs'], (ctx, _req, res) => put(res, watchSummary(ctx.view))),
  get(['zabstate'], (_ctx, _req, res) => put(res, { voting: false, zabstate: '' }), false),
];

function srvr(ctx: CommandContext, res: CommandResponse): void {
  const s = ctx.view.stats();
  const stats = serverStats(ctx.view);
  put(res, {
    version: ctx.view.version,
    read_only: ctx.view.readOnly(),
    server_stats: stats.serverStats,
    client_response: stats.clientResponse,
    node_count: s.nodeCount,
  });
}

const BY_NAME = new Map<string, Command>(COMMANDS.flatMap((c) => c.names.map((n) => [n, c] as const)));

/** The primary names, sorted: the links GET /commands lists. */
export const PRIMARY_NAMES: readonly string[] = COMMANDS.map((c) => c.names[0]!).sort();

/** Commands.runCommand: the checks in ZooKeeper's order, then the command. */
export async function runCommand(name: string, ctx: CommandContext, req: CommandRequest): Promise<CommandResponse> {
  const command = BY_NAME.get(name);
  if (command === undefined) return new CommandResponse(name, `Unknown command: ${name}`);
  if (command.serverRequired && !ctx.view.serving()) return new CommandResponse(name, ZK_NOT_SERVING);
  if (command.auth !== undefined) {
    const refused = checkAuth(ctx, req, command.auth, name);
    if (refused !== null) return refused;
  }
  const res = new CommandResponse(command.names[0]!);
  if (req.method !== command.method) {
    // ZooKeeper's GetCommand.runPost / PostCommand.runGet answer null, and Jetty a 500.
    return new CommandResponse(name, `${name} does not accept ${req.method}`, 500);
  }
  await command.run(ctx, req, res);
  return res;
}

/** handleAuthentication + handleAuthorization: null when allowed, else ZooKeeper's refusal. */
function checkAuth(ctx: CommandContext, req: CommandRequest, auth: NonNullable<Command['auth']>, name: string): CommandResponse | null {
  if (req.authorization === undefined) return new CommandResponse(name, 'Auth info is missing for the command', 401);
  const parts = req.authorization.split(' ');
  const provider = ctx.server.providers.get(parts[0] ?? '');
  if ((parts.length !== 1 && parts.length !== 2) || provider === undefined) return new CommandResponse(name, 'Not authenticated', 401);
  let ids: readonly Id[];
  try {
    const peer = req.peerCertificate === undefined ? {} : { peerCertificate: req.peerCertificate };
    const r = provider.authenticate(Buffer.from(parts[1] ?? '', 'utf8'), { remoteAddress: req.remoteAddress, ...peer });
    ids = 'ids' in r ? r.ids : [];
  } catch {
    ids = [];
  }
  if (ids.length === 0) return new CommandResponse(name, 'Not authenticated', 401);
  const node = ctx.server.tree.get(auth.path);
  if (node === undefined) return new CommandResponse(name, 'Error occurred during auth', 500);
  if (!checkAcl(node.acl, auth.perm, ids, ctx.server.providers)) return new CommandResponse(name, 'Not authorized', 403);
  return null;
}
