// digest.ts — the id of a "digest" ACL for a user and password, as ZooKeeper's
// DigestAuthenticationProvider.generateDigest computes it: user:base64(sha1(user:password)).
// Authenticate with addAuth('digest', 'user:password'); grant with { scheme: 'digest', id }.
import { createHash } from 'node:crypto';
import type { Id } from './types.js';

export function digestId(user: string, password: string): Id {
  const hash = createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64');
  return { scheme: 'digest', id: `${user}:${hash}` };
}
