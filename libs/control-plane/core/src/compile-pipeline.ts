// Source states → debounce → validate → versioned snapshot. The compile step is a pure
// function of the current document set; the pipeline only adds debouncing and the rule that a
// set with errors never replaces the last good snapshot.
import { combineLatest, debounceTime, scan } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { buildSnapshot, diffSnapshots, validateDocuments } from '@trellis/config';
import type { ConfigIssue, Snapshot, SnapshotDiff } from '@trellis/config';
import type { ConfigSource, SourceState } from '@trellis/control-plane-sources';
import { leadingDebounce } from './leading-debounce.js';

export const DEFAULT_DEBOUNCE_MS = 100;

export interface CompileResult {
  /** The snapshot in force: the newest valid one, or undefined before the first valid set. */
  readonly snapshot: Snapshot | undefined;
  /** True when this compilation produced `snapshot` (false: rejected or unchanged content). */
  readonly published: boolean;
  /** Changes against the previous snapshot when `published`. */
  readonly diff: SnapshotDiff | undefined;
  /** Every problem in the current document set (errors block publishing, warnings do not). */
  readonly issues: readonly ConfigIssue[];
}

export interface CompileOptions {
  /** Quiet time that ends a burst of changes (default 100 ms). */
  readonly debounceMs?: number;
  /**
   * Default false: every change waits for `debounceMs` of quiet (trailing debounce), so the
   * transient states of a change (a file truncated before it is rewritten) are never compiled.
   * True: the first change after a quiet period compiles at once and the rest of its burst
   * once `debounceMs` pass quietly (leadingDebounce) — only for sources whose every event is a
   * whole, intended state; with the folder source a half-written file can become a version.
   */
  readonly leadingEdge?: boolean;
  /** Version of the last snapshot published before this process started (e.g. from storage). */
  readonly lastVersion?: number;
  readonly scheduler?: SchedulerLike;
}

/** Pure: compiles the merged document set of all sources against the previous result. */
export function compileStates(
  states: readonly SourceState[],
  previous: Snapshot | undefined,
  lastVersion: number,
): CompileResult {
  const documents = states.flatMap((s) => s.documents);
  const validation = validateDocuments(documents);
  const issues = [...states.flatMap((s) => s.issues), ...validation.issues];
  if (issues.some((i) => i.severity === 'error')) {
    return { snapshot: previous, published: false, diff: undefined, issues };
  }
  const candidate = buildSnapshot(
    validation.resources,
    Math.max(lastVersion, previous?.version ?? 0) + 1,
  );
  if (previous && candidate.hash === previous.hash) {
    return { snapshot: previous, published: false, diff: undefined, issues };
  }
  return { snapshot: candidate, published: true, diff: diffSnapshots(previous, candidate), issues };
}

export function compilePipeline(
  sources: readonly ConfigSource[],
  options: CompileOptions = {},
): Observable<CompileResult> {
  const lastVersion = options.lastVersion ?? 0;
  const initial: CompileResult = {
    snapshot: undefined,
    published: false,
    diff: undefined,
    issues: [],
  };
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  return combineLatest(sources.map((s) => s.states())).pipe(
    options.leadingEdge === true
      ? leadingDebounce(debounceMs, options.scheduler)
      : debounceTime(debounceMs, options.scheduler),
    scan((previous, states) => compileStates(states, previous.snapshot, lastVersion), initial),
  );
}
