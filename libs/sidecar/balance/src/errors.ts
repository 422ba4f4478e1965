// Typed errors of the balance lib: each carries a stable `code` (and the offending field path) so
// callers branch on codes and report paths, never parse messages.

export type BalanceErrorCode =
  | 'TRL_BALANCE_INVALID_PARAMS'
  | 'TRL_BALANCE_INVALID_ENDPOINT'
  | 'TRL_BALANCE_DUPLICATE_ENDPOINT'
  | 'TRL_BALANCE_UNKNOWN_ALGORITHM';

export class BalanceError extends Error {
  override readonly name = 'BalanceError';
  readonly code: BalanceErrorCode;
  /** Path of the offending field, e.g. `outlier.maxEjectionPercent` or `endpoints[2].weight`. */
  readonly path: string;

  constructor(code: BalanceErrorCode, path: string, message: string) {
    super(`${path}: ${message}`);
    this.code = code;
    this.path = path;
  }
}
