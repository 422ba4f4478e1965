// Holds the config in force. A new snapshot is built into its runtime form aside, and only a
// complete, valid build replaces the current one — by swapping one reference, so requests in
// flight keep the runtime they started with. A failed build leaves the last good one in force.
import type { ConfigIssue, Snapshot } from '@trellis/config';

export interface Applied<R> {
  readonly snapshot: Snapshot;
  readonly runtime: R;
  /** Wall-clock time (ms since epoch) when this version took effect. */
  readonly appliedAt: number;
}

export type ApplyResult =
  | { readonly accepted: true; readonly version: number }
  | { readonly accepted: false; readonly version: number; readonly issues: readonly ConfigIssue[] };

/** Builds the runtime form of a snapshot; throws ConfigError (with issues) when it cannot. */
export type RuntimeBuilder<R> = (snapshot: Snapshot, previous: R | undefined) => R;

export interface Rejection {
  readonly version: number;
  readonly issues: readonly ConfigIssue[];
  readonly at: number;
}

export class ConfigHolder<R> {
  #current: Applied<R> | undefined;
  #lastRejection: Rejection | undefined;
  readonly #build: RuntimeBuilder<R>;
  readonly #listeners = new Set<(applied: Applied<R>) => void>();

  constructor(build: RuntimeBuilder<R>) {
    this.#build = build;
  }

  /** The config in force, or undefined before the first accepted snapshot. */
  get current(): Applied<R> | undefined {
    return this.#current;
  }

  get lastRejection(): Rejection | undefined {
    return this.#lastRejection;
  }

  /** Called after every accepted swap (metrics, logs, admin views). */
  onApplied(listener: (applied: Applied<R>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  apply(snapshot: Snapshot): ApplyResult {
    const current = this.#current;
    if (current && snapshot.version <= current.snapshot.version) {
      return this.reject(snapshot.version, [
        {
          severity: 'error',
          code: 'TRL_CFG_STALE_VERSION',
          message: `version ${snapshot.version} is not newer than version ${current.snapshot.version} in force`,
        },
      ]);
    }
    let runtime: R;
    try {
      runtime = this.#build(snapshot, current?.runtime);
    } catch (error) {
      return this.reject(snapshot.version, issuesOf(error));
    }
    const applied: Applied<R> = { snapshot, runtime, appliedAt: Date.now() };
    this.#current = applied;
    for (const listener of this.#listeners) listener(applied);
    return { accepted: true, version: snapshot.version };
  }

  /**
   * Records a version refused before it could be applied (a config file or update that does not
   * validate), so the admin view and status reports show it beside the config kept in force.
   */
  reject(version: number, issues: readonly ConfigIssue[]): ApplyResult {
    this.#lastRejection = { version, issues, at: Date.now() };
    return { accepted: false, version, issues };
  }
}

function issuesOf(error: unknown): readonly ConfigIssue[] {
  const issues = (error as { issues?: unknown } | undefined)?.issues;
  if (Array.isArray(issues) && issues.length > 0) return issues as ConfigIssue[];
  return [
    {
      severity: 'error',
      code: (error as { code?: string } | undefined)?.code ?? 'TRL_CFG_BUILD_FAILED',
      message: error instanceof Error ? error.message : String(error),
    },
  ];
}
