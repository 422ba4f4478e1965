// The one interface every source of mesh config implements (a folder of YAML now, the
// Kubernetes API later): a stream of complete document sets. Each emission replaces the
// previous one from the same source, so consumers never merge partial updates.
import type { Observable } from 'rxjs';
import type { ConfigIssue, ParsedDocument } from '@trellis/config';

export interface SourceState {
  /** Which source produced this state, e.g. `folder:/etc/trellis`. */
  readonly source: string;
  /** Every document the source currently holds, parsed but not yet validated. */
  readonly documents: readonly ParsedDocument[];
  /** Problems found while reading or parsing (unreadable files, YAML syntax errors). */
  readonly issues: readonly ConfigIssue[];
}

export interface ConfigSource {
  readonly name: string;
  /** Emits the full state on subscription and again after every change. */
  states(): Observable<SourceState>;
}
