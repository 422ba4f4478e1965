// The messages between the primary and its workers over the cluster IPC channel, and their
// validation. Node serialises them as JSON; every message is checked on arrival, because a
// worker must never apply half a snapshot nor the primary count an answer it cannot read.
import { LATENCY_BUCKET_COUNT } from '@trellis/mesh-protocol';
import type { DestinationWindows } from '@trellis/sidecar-telemetry';
import { WorkersError } from './errors.js';

/**
 * Per-worker views the primary gathers. `metrics` answers prom-client's JSON form; `telemetry`
 * the worker's destination windows (a WireWindow), which the primary merges into the summary.
 */
export const WORKER_VIEWS = ['stats', 'clusters', 'metrics', 'telemetry'] as const;
export type WorkerView = (typeof WORKER_VIEWS)[number];

/** A worker's destination windows as sent: DestinationWindows.contents(), checked on arrival. */
export type WireWindow = ReturnType<DestinationWindows['contents']>;

/** A snapshot as sent: plain data; the worker re-validates it and checks its hash. */
export interface WireSnapshot {
  readonly version: number;
  readonly hash: string;
  readonly resources: readonly unknown[];
}

export type ToWorker =
  /** The config in force at the primary; sent on hello and on every accepted version. */
  | { readonly type: 'trellis:snapshot'; readonly snapshot: WireSnapshot }
  /** Asks for one view; answered with `trellis:collected` carrying the same id. */
  | { readonly type: 'trellis:collect'; readonly id: number; readonly view: WorkerView }
  /** Drain the listeners within the drain deadline, then exit. */
  | { readonly type: 'trellis:drain' };

export type ToPrimary =
  /** The worker listens for messages: the primary answers with the current snapshot. */
  | { readonly type: 'trellis:hello' }
  | { readonly type: 'trellis:applied'; readonly version: number; readonly hash: string }
  | {
      readonly type: 'trellis:rejected';
      readonly version: number;
      readonly issues: readonly string[];
    }
  /** Every listener is bound (listener name → HOST:PORT). */
  | { readonly type: 'trellis:listening'; readonly addresses: Readonly<Record<string, string>> }
  | {
      readonly type: 'trellis:collected';
      readonly id: number;
      readonly status: number;
      readonly body: unknown;
    };

type Fields = Record<string, unknown>;

/** True for messages of this protocol; other users of the channel are left alone. */
export function isTrellisMessage(message: unknown): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as Fields).type === 'string' &&
    ((message as Fields).type as string).startsWith('trellis:')
  );
}

/** A message for a worker; throws WorkersError TRL_WORKERS_BAD_MESSAGE when malformed. */
export function parseToWorker(message: unknown): ToWorker {
  const m = envelope(message);
  switch (m.type) {
    case 'trellis:snapshot':
      return { type: m.type, snapshot: wireSnapshot(m.snapshot) };
    case 'trellis:collect':
      return { type: m.type, id: messageId(m.id), view: view(m.view) };
    case 'trellis:drain':
      return { type: m.type };
    default:
      throw bad(`unknown message type ${JSON.stringify(m.type)}`);
  }
}

/** A message for the primary; throws WorkersError TRL_WORKERS_BAD_MESSAGE when malformed. */
export function parseToPrimary(message: unknown): ToPrimary {
  const m = envelope(message);
  switch (m.type) {
    case 'trellis:hello':
      return { type: m.type };
    case 'trellis:applied':
      return { type: m.type, version: version(m.version), hash: text(m.hash, 'hash') };
    case 'trellis:rejected':
      if (!Array.isArray(m.issues) || !m.issues.every((i) => typeof i === 'string'))
        throw bad('issues must be a list of strings');
      return { type: m.type, version: version(m.version), issues: m.issues as string[] };
    case 'trellis:listening':
      return { type: m.type, addresses: addresses(m.addresses) };
    case 'trellis:collected':
      if (!Number.isInteger(m.status) || (m.status as number) < 100 || (m.status as number) > 599)
        throw bad('status must be an HTTP status');
      return { type: m.type, id: messageId(m.id), status: m.status as number, body: m.body };
    default:
      throw bad(`unknown message type ${JSON.stringify(m.type)}`);
  }
}

/**
 * A worker's answer to the `telemetry` view; throws WorkersError TRL_WORKERS_BAD_MESSAGE unless
 * every count is a whole number, failures never exceed requests, every second lies within the
 * window and its latency buckets are ascending, in range, and add up to its requests.
 */
export function parseWindow(value: unknown): WireWindow {
  const w = fields(value, 'telemetry');
  const windowSeconds = w.windowSeconds;
  if (!Number.isSafeInteger(windowSeconds) || (windowSeconds as number) < 1)
    throw bad(`telemetry.windowSeconds must be a whole number ≥ 1`);
  const window = windowSeconds as number;
  return {
    windowSeconds: window,
    series: list(w.series, 'telemetry.series').map((raw, i) => {
      const where = `telemetry.series[${i}]`;
      const s = fields(raw, where);
      return {
        direction: text(s.direction, `${where}.direction`),
        service: text(s.service, `${where}.service`),
        seconds: list(s.seconds, `${where}.seconds`).map((second, j) =>
          windowSecond(second, window, `${where}.seconds[${j}]`),
        ),
      };
    }),
  };
}

function windowSecond(value: unknown, window: number, where: string) {
  const s = fields(value, where);
  const age = s.age;
  if (!Number.isInteger(age) || (age as number) < 1 || (age as number) > window)
    throw bad(`${where}.age must be a whole number from 1 to ${window}`);
  const requests = count(s.requests, `${where}.requests`);
  const failures = count(s.failures, `${where}.failures`);
  if (failures > requests) throw bad(`${where}.failures exceeds its requests`);
  const latency = list(s.latency, `${where}.latency`);
  if (latency.length % 2 !== 0) throw bad(`${where}.latency must hold [bucket, count] pairs`);
  let previous = -1;
  let total = 0;
  for (let i = 0; i < latency.length; i += 2) {
    const bucket = latency[i];
    if (!Number.isInteger(bucket) || (bucket as number) <= previous)
      throw bad(`${where}.latency buckets must be whole numbers in ascending order`);
    if ((bucket as number) >= LATENCY_BUCKET_COUNT)
      throw bad(`${where}.latency bucket ${bucket as number} is not below ${LATENCY_BUCKET_COUNT}`);
    const n = latency[i + 1];
    if (!Number.isSafeInteger(n) || (n as number) < 1)
      throw bad(`${where}.latency counts must be whole numbers ≥ 1 (got ${JSON.stringify(n)})`);
    previous = bucket as number;
    total += n as number;
  }
  if (total !== requests)
    throw bad(`${where}.latency counts add up to ${total}, not to its ${requests} requests`);
  return { age: age as number, requests, failures, latency: latency as number[] };
}

function fields(value: unknown, where: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(`${where} must be an object`);
  return value as Fields;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw bad(`${where} must be a list`);
  return value;
}

function count(value: unknown, where: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw bad(`${where} must be a whole number ≥ 0 (got ${JSON.stringify(value)})`);
  return value as number;
}

function envelope(message: unknown): Fields & { type: string } {
  if (!isTrellisMessage(message)) throw bad('not a trellis message');
  return message as Fields & { type: string };
}

function wireSnapshot(value: unknown): WireSnapshot {
  if (typeof value !== 'object' || value === null) throw bad('snapshot must be an object');
  const s = value as Fields;
  if (!Array.isArray(s.resources)) throw bad('snapshot.resources must be a list');
  if (!s.resources.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r)))
    throw bad('snapshot.resources must be objects');
  const hash = text(s.hash, 'snapshot.hash');
  if (!hash.startsWith('sha256:')) throw bad('snapshot.hash must be sha256:<hex>');
  return { version: version(s.version), hash, resources: s.resources as unknown[] };
}

function version(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1)
    throw bad(`version must be a positive integer (got ${JSON.stringify(value)})`);
  return value as number;
}

function messageId(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw bad(`id must be a whole number (got ${JSON.stringify(value)})`);
  return value as number;
}

function view(value: unknown): WorkerView {
  if (!WORKER_VIEWS.includes(value as WorkerView))
    throw bad(`view must be one of ${WORKER_VIEWS.join(', ')} (got ${JSON.stringify(value)})`);
  return value as WorkerView;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw bad(`${field} must be a non-empty string`);
  return value;
}

function addresses(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('addresses must be an object');
  const entries = Object.entries(value as Fields);
  if (!entries.every(([, a]) => typeof a === 'string')) throw bad('addresses must be strings');
  return Object.fromEntries(entries) as Record<string, string>;
}

function bad(message: string): WorkersError {
  return new WorkersError('TRL_WORKERS_BAD_MESSAGE', `bad cluster message: ${message}`);
}
