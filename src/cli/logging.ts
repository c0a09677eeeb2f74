// logging.ts — the server's logs as structured JSON lines (pino), one object per line with
// `level` (pino's number), `time` (ms since the epoch), `msg` and the fields of the event.
// Configured by zoo.cfg keys, each overridden by its environment variable:
//   zkts.log.level   ZKTS_LOG_LEVEL   trace|debug|info|warn|error|fatal|silent   (info)
//   zkts.log.file    ZKTS_LOG_FILE    append to this file instead of stderr       (stderr)
//   zkts.log.format  ZKTS_LOG_FORMAT  json, or pretty: "<time> <LEVEL> <msg> k=v" for terminals (json)
// Secrets are never written: the configuration is logged with every value whose key names a
// password, secret or digest replaced by "******", and every message is scrubbed of the secret
// values the configuration holds (the JAAS file's passwords, keystore and truststore passwords,
// the super digest and SASL super password) before it is written.
import { type Logger, destination, pino } from 'pino';
import { ZktsError } from '../errors.js';

export type LogLevel = 'info' | 'warn' | 'error';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type PinoLevel = (typeof LOG_LEVELS)[number];

export interface LogSettings {
  level: PinoLevel;
  file?: string;
  format: 'json' | 'pretty';
}

export const REDACTED = '******';

/** A key whose value is a secret: passwords, secrets, digests, credentials, private keys. */
export function isSecretKey(key: string): boolean {
  return /password|passwd|secret|digest|credential|private/i.test(key) && !/passwordPath$|\.enabled$/i.test(key);
}

/** zoo.cfg's log keys (from ServerConfig.properties, as zookeeper.<key>), overridden by ZKTS_LOG_*. */
export function logSettings(properties: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv = process.env): LogSettings {
  const pick = (key: string, envName: string): [string, string] | undefined => {
    const e = env[envName];
    if (e !== undefined && e !== '') return [envName, e];
    const v = properties.get(`zookeeper.${key}`);
    return v === undefined || v === '' ? undefined : [key, v];
  };
  const level = pick('zkts.log.level', 'ZKTS_LOG_LEVEL');
  const lv = (level?.[1] ?? 'info').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(lv)) {
    throw new ZktsError('ZKTS_ERR_CONFIG', `${level![0]}: "${level![1]}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
  }
  const format = pick('zkts.log.format', 'ZKTS_LOG_FORMAT');
  const fmt = (format?.[1] ?? 'json').trim().toLowerCase();
  if (fmt !== 'json' && fmt !== 'pretty') throw new ZktsError('ZKTS_ERR_CONFIG', `${format![0]}: "${format![1]}" is not json or pretty`);
  const file = pick('zkts.log.file', 'ZKTS_LOG_FILE')?.[1];
  return { level: lv as PinoLevel, format: fmt, ...(file === undefined ? {} : { file }) };
}

/** Replaces each secret value (4 characters or more: shorter ones would blank ordinary words) in text. */
export function scrubber(secrets: Iterable<string>): (text: string) => string {
  const values = [...new Set([...secrets].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (t) => t;
  const escaped = values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(escaped.join('|'), 'g');
  return (t) => t.replace(re, REDACTED);
}

/** The properties with secret values redacted, for the configuration line at start. */
export function redactedProperties(properties: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of [...properties].sort(([a], [b]) => a.localeCompare(b))) out[k] = isSecretKey(k) ? REDACTED : v;
  return out;
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** pretty: one readable line per JSON line; the fields other than level, time, msg, pid, hostname as k=v. */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, msg, pid: _pid, hostname: _host, ...rest } = o;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const when = typeof time === 'number' ? new Date(time).toISOString() : String(time);
  return `${when} ${(LEVEL_NAMES[level as number] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${fields.length ? ' ' + fields.join(' ') : ''}\n`;
}

export interface ServerLogger {
  readonly pino: Logger;
  /** ServerOptions.log / DataDir's log: level and message, scrubbed. */
  readonly log: (level: LogLevel, msg: string) => void;
  /** Writes what is buffered (file output is synchronous; this is for the exit path). */
  flush(): void;
}

/**
 * A logger writing to settings.file (appended, created with its directories) or stderr. `secrets`
 * are the secret values to scrub from messages. `stream` replaces the destination (tests).
 */
export function createServerLogger(settings: LogSettings, secrets: Iterable<string>, stream?: { write(s: string): unknown }): ServerLogger {
  const sink = stream ?? (settings.file !== undefined ? destination({ dest: settings.file, sync: true, mkdir: true, append: true }) : destination({ fd: 2, sync: true }));
  const out = settings.format === 'pretty' ? { write: (s: string) => sink.write(prettyLine(s)) } : sink;
  const scrub = scrubber(secrets);
  const logger = pino(
    {
      level: settings.level,
      base: { pid: process.pid },
      hooks: {
        // every string argument (the message and its format arguments) is scrubbed
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as typeof args;
          method.apply(this, clean);
        },
      },
    },
    out as unknown as NodeJS.WritableStream,
  );
  return {
    pino: logger,
    log: (level, msg) => logger[level](msg),
    flush: () => logger.flush(),
  };
}
