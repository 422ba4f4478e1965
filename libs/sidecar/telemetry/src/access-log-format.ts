// Text access-log lines from an Envoy-style template: `%FIELD%` placeholders name the entry's
// fields in upper snake case (`%START_TIME%` for the time), `%%` is a literal percent sign and
// missing values print as `-`. The template is compiled once per config, not per request.
import type { AccessLogEntry } from './access-log-entry.js';

export class AccessLogFormatError extends Error {
  readonly code = 'TRL_ACCESS_LOG_FORMAT';

  constructor(message: string) {
    super(message);
    this.name = 'AccessLogFormatError';
  }
}

type Field = (entry: AccessLogEntry) => string;

// Request data cannot carry line breaks past the HTTP parsers, but one request must stay one
// line whatever a client sends, so control characters in values are escaped (the template's
// own, such as tab separators, are kept).
const CONTROL = /[\u0000-\u001f\u007f]/g;

const text =
  (read: (entry: AccessLogEntry) => string | number | boolean | null | undefined): Field =>
  (entry) => {
    const value = read(entry);
    return value === null || value === undefined || value === ''
      ? '-'
      : String(value).replace(CONTROL, escapeControl);
  };

const FIELDS: Readonly<Record<string, Field>> = {
  START_TIME: text((e) => e.time),
  TIME: text((e) => e.time),
  REQUEST_ID: text((e) => e.request_id),
  DIRECTION: text((e) => e.direction),
  TRACE_ID: text((e) => e.trace_id),
  METHOD: text((e) => e.method),
  AUTHORITY: text((e) => e.authority),
  PATH: text((e) => e.path),
  PROTOCOL: text((e) => e.protocol),
  STATUS: text((e) => e.status),
  GRPC_STATUS: text((e) => e.grpc_status),
  DURATION_MS: text((e) => e.duration_ms),
  UPSTREAM: text((e) => e.upstream),
  ROUTE: text((e) => e.route),
  DESTINATION: text((e) => e.destination),
  ATTEMPTS: text((e) => e.attempts),
  RETRY_REASONS: text((e) => e.retry_reasons.join(',')),
  BYTES_IN: text((e) => e.bytes_in),
  BYTES_OUT: text((e) => e.bytes_out),
  RETRIED: text((e) => e.retried),
  TIMED_OUT: text((e) => e.timed_out),
  BREAKER: text((e) => e.breaker),
  RATE_LIMITED: text((e) => e.rate_limited),
  FAULT_INJECTED: text((e) => e.fault_injected),
  CLIENT_ABORTED: text((e) => e.client_aborted),
  ERROR: text((e) => e.error),
};

/** Placeholder names a template may use. */
export const ACCESS_LOG_FIELDS: readonly string[] = Object.keys(FIELDS);

const PLACEHOLDER = /%([A-Z_]*)%/g;

/** Compiles `format`; throws AccessLogFormatError for a placeholder that names no field. */
export function compileAccessLogFormat(format: string): (entry: AccessLogEntry) => string {
  const parts: (string | Field)[] = [];
  let last = 0;
  for (const match of format.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    const field = name === '' ? '%' : FIELDS[name];
    if (field === undefined)
      throw new AccessLogFormatError(
        `access log format: unknown field %${name}% (known: ${ACCESS_LOG_FIELDS.join(', ')})`,
      );
    parts.push(format.slice(last, match.index), field);
    last = match.index + match[0].length;
  }
  parts.push(format.slice(last));
  const pieces = parts.filter((p) => p !== '');
  return (entry) => {
    let line = '';
    for (const piece of pieces) line += typeof piece === 'string' ? piece : piece(entry);
    return line;
  };
}

function escapeControl(char: string): string {
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}
