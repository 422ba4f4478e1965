// Turns whatever a failed build threw into the config issues a NACK carries: a ConfigError's own
// issues when it has them, else one issue naming the error's code and message.
import type { ConfigIssue } from '@trellis/config';

export function issuesOf(
  error: unknown,
  fallbackCode = 'TRL_CFG_BUILD_FAILED',
): readonly ConfigIssue[] {
  const issues = (error as { issues?: unknown } | undefined)?.issues;
  if (Array.isArray(issues) && issues.length > 0) return issues as ConfigIssue[];
  const code = (error as { code?: unknown } | undefined)?.code;
  return [
    {
      severity: 'error',
      code: typeof code === 'string' ? code : fallbackCode,
      message: error instanceof Error ? error.message : String(error),
    },
  ];
}
