// errors.ts — operational errors (bad config, port in use, disk full) carry a stable code and a
// message that tells the operator what to do. ZooKeeper API errors are values (see
// protocol/codes.ts), never these; broken invariants are asserts.

export type ZktsErrorCode =
  | 'ZKTS_ERR_CONFIG'
  | 'ZKTS_ERR_CONFIG_FILE'
  | 'ZKTS_ERR_LISTEN'
  | 'ZKTS_ERR_FRAME'
  | 'ZKTS_ERR_JAAS'
  | 'ZKTS_ERR_DISK'
  | 'ZKTS_ERR_UNSUPPORTED';

export class ZktsError extends Error {
  readonly code: ZktsErrorCode;
  constructor(code: ZktsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ZktsError';
    this.code = code;
  }
}
