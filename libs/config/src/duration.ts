// Durations as written in config ("250ms", "1.5s", "1m30s") and their value in milliseconds.
import { ConfigError } from './errors.js';

/**
 * One or more `<number><unit>` terms, units ms, s, m, h (Go's time.ParseDuration without ns/us).
 * Also valid as a Kubernetes (RE2) pattern, so it can sit in CRD schemas.
 */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

export const DURATION_MESSAGE = 'must be a duration like 250ms, 1.5s or 2m';

const WHOLE = new RegExp(DURATION_PATTERN);
const TERM = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

export function isDuration(text: string): boolean {
  return WHOLE.test(text);
}

/**
 * Milliseconds in `text`, e.g. `1m30s` → 90000, `1.5ms` → 1.5 (rounded to the microsecond so that
 * `1.1s` is 1100, not 1100.0000000000002). Throws ConfigError TRL_CFG_DURATION when malformed.
 */
export function parseDuration(text: string): number {
  if (!isDuration(text)) {
    throw new ConfigError(
      `${DURATION_MESSAGE} (got ${JSON.stringify(text)})`,
      [],
      'TRL_CFG_DURATION',
    );
  }
  let micros = 0;
  for (const [, amount, unit] of text.matchAll(TERM)) {
    micros += Math.round(Number(amount) * (UNIT_MS[unit ?? 'ms'] ?? 1) * 1000);
  }
  return micros / 1000;
}
