// config-properties.ts — the zookeeper.* system properties that zoo.cfg's other keys become,
// read back the way ZooKeeper's components read them: Integer.getInteger (Integer.decode, so
// 0x10 and #10 are hex and 010 is octal), Long.getLong, Long.parseLong, and a value Java cannot
// read falls back to the default, silently in ZooKeeper and with a warning here.

import { javaDecodeInt, javaParseLong, javaSplit, javaTrim } from './config-parse.js';

/** Every four-letter word ZooKeeper knows; 4lw.commands.whitelist=* enables them all. */
export const FOUR_LETTER_WORDS: readonly string[] = [
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk',
  'srst', 'srvr', 'stat', 'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash',
];

/** zookeeper.* properties, read as Integer.getInteger / Long.getLong / getProperty read them:
 * a value Java cannot read falls back to the default, with a warning. */
export class PropertyReader {
  constructor(
    private readonly properties: Map<string, string>,
    private readonly warnings: string[],
    private readonly at: (key?: string) => string,
  ) {}

  /** The value of zookeeper.<key>. */
  get(key: string): string | undefined {
    return this.properties.get(`zookeeper.${key}`);
  }

  /** A system property by its full name (jute.maxbuffer, readonlymode.enabled, ...). */
  system(name: string): string | undefined {
    return this.properties.get(name);
  }

  /** zookeeper.<prefix><rest>=value as rest → value (authProvider.N, as ProviderRegistry reads them). */
  withPrefix(prefix: string): Map<string, string> {
    const out = new Map<string, string>();
    const full = `zookeeper.${prefix}`;
    for (const [name, value] of this.properties) if (name.startsWith(full)) out.set(name.slice(full.length), value);
    return out;
  }

  int(key: string, fallback: number, bits: 32 | 53 = 32): number {
    return this.intOf(key, `zookeeper.${key}`, fallback, bits);
  }

  intOf(key: string, name: string, fallback: number, bits: 32 | 53 = 32): number {
    const v = this.properties.get(name);
    if (v === undefined) return fallback;
    const n = javaDecodeInt(v, bits);
    if (n !== undefined) return n;
    this.warnings.push(`${this.at(key)}${key}: "${v}" is not a whole number: using ${fallback}, as ZooKeeper does`);
    return fallback;
  }

  /** A setting ZooKeeper reads only as the system property <name> (jute.maxbuffer,
   * znode.container.*): zkts also takes it from the zoo.cfg key <name>, which wins. */
  systemInt(name: string, fallback: number, bits: 32 | 53 = 32): number {
    return this.int(name, this.intOf(name, name, fallback, bits), bits);
  }

  long(key: string, fallback: number): number {
    const v = this.get(key);
    if (v === undefined) return fallback;
    const n = javaParseLong(v);
    if (n !== undefined) return n;
    this.warnings.push(`${this.at(key)}${key}: "${v}" is not a whole number: using ${fallback}, as ZooKeeper does`);
    return fallback;
  }
}

/** FourLetterCommands.isEnabled: a comma list, or * for all; srvr always (zkServer.sh needs it),
 * isro too in read-only mode. */
export function whitelist(list: string | undefined, readOnlyMode: boolean, warnings: string[]): Set<string> {
  const words = new Set<string>();
  for (const part of javaSplit(list ?? '', ',')) {
    const word = javaTrim(part);
    if (word === '*') {
      for (const w of FOUR_LETTER_WORDS) words.add(w);
      break;
    }
    if (word === '') continue;
    if (!FOUR_LETTER_WORDS.includes(word)) warnings.push(`4lw.commands.whitelist: "${word}" is not a four-letter word ZooKeeper knows`);
    words.add(word);
  }
  if (readOnlyMode) words.add('isro');
  words.add('srvr');
  return words;
}
