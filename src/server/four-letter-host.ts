// four-letter-host.ts — interim: answers ruok until the four-letter-word module is wired.
import type { Connection } from './connection.js';
import type { ZkServer } from './zk-server.js';

const RUOK = 0x72756f6b;

export function fourLetterWordHandler(_whitelist: string | undefined) {
  return (_server: ZkServer, _conn: Connection, word: number): string | null => (word === RUOK ? 'imok' : null);
}
