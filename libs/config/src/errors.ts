// Typed errors thrown by the few config functions that cannot report through issue lists.
import type { ConfigIssue } from './issues.js';

/** Stable codes carried by ConfigError. */
export type ConfigErrorCode = 'TRL_CFG_INVALID' | 'TRL_CFG_DURATION';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  /** The issues that made the operation fail (empty when the message says it all). */
  readonly issues: readonly ConfigIssue[];

  constructor(
    message: string,
    issues: readonly ConfigIssue[] = [],
    code: ConfigErrorCode = 'TRL_CFG_INVALID',
  ) {
    super(message);
    this.code = code;
    this.issues = issues;
  }
}
