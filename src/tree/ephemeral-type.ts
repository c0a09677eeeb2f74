// ephemeral-type.ts — ZooKeeper's encoding of node kinds in the ephemeralOwner field
// (EphemeralType): 0 = persistent, Long.MIN_VALUE = container; with extended types enabled, a
// high byte of 0xFF marks an extended type whose next 16 bits select the feature (0 = TTL) and
// whose low 40 bits hold its value (the TTL in ms); anything else = the owning session id.

export const CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000n;
const EXTENDED_MASK = 0xff00000000000000n;
const RESERVED_BITS_MASK = 0x00ffff0000000000n;
export const MAX_TTL_MS = 0x000000ffffffffffn;

export type EphemeralKind = 'void' | 'normal' | 'container' | 'ttl' | 'invalid';

export function ephemeralKind(owner: bigint, extendedTypesEnabled: boolean): EphemeralKind {
  if (extendedTypesEnabled) {
    const u = BigInt.asUintN(64, owner);
    if ((u & EXTENDED_MASK) === EXTENDED_MASK) {
      return (u & RESERVED_BITS_MASK) === 0n ? 'ttl' : 'invalid';
    }
  }
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'container';
  return owner === 0n ? 'void' : 'normal';
}

export function ttlOwner(ttlMs: bigint): bigint {
  return BigInt.asIntN(64, EXTENDED_MASK | ttlMs);
}

export function ttlOf(owner: bigint): bigint {
  return BigInt.asUintN(64, owner) & MAX_TTL_MS;
}

/** EphemeralType.validateTTL: a TTL mode needs 0 < ttl <= max; other modes need ttl < 0. */
export function ttlValid(isTtlMode: boolean, ttl: bigint): boolean {
  if (isTtlMode) return ttl > 0n && ttl <= MAX_TTL_MS;
  return ttl < 0n;
}
