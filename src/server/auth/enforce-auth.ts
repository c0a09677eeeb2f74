// enforce-auth.ts — enforce.auth.enabled / enforce.auth.schemes, as ZooKeeper 3.8/3.9's
// AuthenticationHelper: a session is still created without authentication, but every request
// other than auth (addauth) and sasl needs the connection to hold an id of one of the schemes
// (ping, setWatches and closeSession included). One that does not is answered
// SessionClosedRequireSaslAuth (-124) and its connection closed; the session itself lives on
// until it expires. sessionRequireClientSASLAuth=true means enabled with the scheme "sasl".
// A scheme without a provider is a configuration error at start, as in ZooKeeper.
import { ZktsError } from '../../errors.js';
import type { Id } from '../../protocol/records.js';

export class AuthEnforcement {
  private readonly schemes: ReadonlySet<string>;

  constructor(schemes: readonly string[]) {
    if (schemes.length === 0) {
      throw new ZktsError('ZKTS_ERR_CONFIG', 'enforce.auth.enabled is true but enforce.auth.schemes is empty; list the schemes a client must authenticate with (e.g. digest,x509)');
    }
    this.schemes = new Set(schemes);
  }

  /** Whether a connection holding `ids` may send requests. */
  satisfiedBy(ids: readonly Id[]): boolean {
    return ids.some((id) => this.schemes.has(id.scheme));
  }

  /** sasl among the schemes: a failed SASL exchange is answered SessionClosedRequireSaslAuth. */
  get saslRequired(): boolean {
    return this.schemes.has('sasl');
  }

  /** Every scheme must have a provider (ZooKeeper: "Authentication scheme X is not available."). */
  checkProviders(has: (scheme: string) => boolean): void {
    for (const s of this.schemes) {
      if (!has(s)) {
        throw new ZktsError('ZKTS_ERR_CONFIG', `enforce.auth.schemes: authentication scheme ${s} is not available; configure its provider (authProvider.N, TLS for x509, a JAAS file for sasl) or remove it`);
      }
    }
  }

  describe(ids: readonly Id[]): string {
    return `Client authentication scheme(s) [${ids.map((i) => i.scheme).join(', ')}] does not match with any of the expected authentication scheme [${[...this.schemes].join(', ')}], closing session`;
  }
}

/** enforce.auth.schemes as ZooKeeper splits it: on commas, each trimmed, trailing empty ones dropped. */
export function parseEnforceAuthSchemes(value: string | undefined): string[] {
  if (value === undefined) return [];
  const parts = value.split(',').map((s) => s.trim());
  while (parts.length > 0 && value.split(',')[parts.length - 1] === '') parts.pop();
  return parts;
}
