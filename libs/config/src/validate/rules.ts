// Small reusable rule checks for the per-kind semantic validators.
import type { PathSegment } from '../issues.js';
import { formatPath } from '../issues.js';
import type { IssueSink } from './issue-sink.js';

/** `a`, `a or b`, `a, b or c` (with `and` for lists of what was found). */
export function listWords(words: readonly string[], conjunction: 'or' | 'and'): string {
  if (words.length <= 1) return words[0] ?? 'none';
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1] ?? ''}`;
}

function setFields<T extends object>(value: T, fields: readonly (keyof T & string)[]): string[] {
  return fields.filter((field) => value[field] !== undefined);
}

/** Reports unless exactly one of `fields` is set on `value`. */
export function exactlyOne<T extends object>(
  sink: IssueSink,
  path: readonly PathSegment[],
  value: T,
  fields: readonly (keyof T & string)[],
): void {
  const set = setFields(value, fields);
  if (set.length !== 1) {
    sink.error(
      'TRL_CFG_CONSTRAINT',
      path,
      `must set exactly one of ${listWords(fields, 'or')} (got ${listWords(set, 'and')})`,
    );
  }
}

/** Reports when more than one of `fields` is set on `value`. */
export function atMostOne<T extends object>(
  sink: IssueSink,
  path: readonly PathSegment[],
  value: T,
  fields: readonly (keyof T & string)[],
): void {
  const set = setFields(value, fields);
  if (set.length > 1) {
    sink.error(
      'TRL_CFG_CONSTRAINT',
      path,
      `must set at most one of ${listWords(fields, 'or')} (got ${listWords(set, 'and')})`,
    );
  }
}

/** Reports when none of `fields` is set on `value`. */
export function atLeastOne<T extends object>(
  sink: IssueSink,
  path: readonly PathSegment[],
  value: T,
  fields: readonly (keyof T & string)[],
): void {
  if (setFields(value, fields).length === 0) {
    sink.error('TRL_CFG_CONSTRAINT', path, `must set at least one of ${listWords(fields, 'or')}`);
  }
}

/**
 * Reports each item whose key repeats an earlier item's:
 * `<describe(item)> (also at spec.ports[0])` at the later item's path. Items without a key are skipped.
 */
export function unique<T>(
  sink: IssueSink,
  items: readonly T[] | undefined,
  pathOf: (index: number) => PathSegment[],
  keyOf: (item: T) => string | undefined,
  describe: (item: T) => string,
): void {
  const first = new Map<string, number>();
  items?.forEach((item, index) => {
    const key = keyOf(item);
    if (key === undefined) return;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, index);
    else {
      sink.error(
        'TRL_CFG_DUPLICATE',
        pathOf(index),
        `duplicate ${describe(item)} (also at ${formatPath(pathOf(earlier))})`,
      );
    }
  });
}
