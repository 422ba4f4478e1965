// The admin /config view of a config holder: the snapshot in force (version, hash, when it was
// applied, its resources and the hosts it routes) and the last version refused, with why.
import { formatIssue } from '@trellis/config';
import type { ConfigHolder } from './config-holder.js';

export interface ConfigView {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** 200 with the config in force, 503 before the first one; `hosts` lists a runtime's hosts. */
export function configView<R>(
  holder: ConfigHolder<R>,
  hosts: (runtime: R) => readonly string[],
): ConfigView {
  const current = holder.current;
  const rejection = holder.lastRejection;
  return {
    status: current ? 200 : 503,
    body: {
      version: current?.snapshot.version ?? null,
      hash: current?.snapshot.hash ?? null,
      appliedAt: current ? new Date(current.appliedAt).toISOString() : null,
      lastRejection: rejection
        ? {
            version: rejection.version,
            at: new Date(rejection.at).toISOString(),
            issues: rejection.issues.map(formatIssue),
          }
        : null,
      hosts: current ? hosts(current.runtime) : [],
      resources: current?.snapshot.resources ?? [],
    },
  };
}
