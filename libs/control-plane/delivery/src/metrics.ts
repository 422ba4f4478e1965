// The control plane's delivery metrics (Prometheus text via prom-client), all listed here once.
// Each replica reports what it sees: every replica follows the status stream, so per-proxy
// counters appear on each of them; `trellis_control_plane_writer` tells which one writes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProtocolErrorCode } from '@trellis/mesh-protocol';
import type { UpdateKind } from './config-update.js';

/** What a push announced: a new version (increment or resync marker), or the head again. */
export type PushKind = UpdateKind | 'head';
import type { SyncState } from './sync-tracker.js';
import { SYNC_STATES } from './sync-tracker.js';

export const METRIC_PREFIX = 'trellis_control_plane_';

/** Push-to-ACK buckets in seconds: 1 ms to 10 s. */
export const ACK_LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export type SyncReplyKind = 'full' | 'current' | 'unavailable' | 'error';
export type RejectedSubject = 'sync' | 'status' | 'telemetry';
/**
 * Protocol errors, plus a sync request that came without a reply subject and a telemetry
 * summary past the aggregator's sidecar limit.
 */
export type RejectionCode =
  ProtocolErrorCode | 'TRL_PROTO_NO_REPLY' | 'TRL_TELEMETRY_TOO_MANY_SIDECARS';
export type StoreWriteOutcome = 'written' | 'conflict' | 'too_large' | 'error';

const REPLY_KINDS: readonly SyncReplyKind[] = ['full', 'current', 'unavailable', 'error'];
/** The refusals each subject can produce (a status has no reply to miss). */
const REJECTIONS: Readonly<Record<RejectedSubject, readonly RejectionCode[]>> = {
  sync: [
    'TRL_PROTO_TOO_LARGE',
    'TRL_PROTO_MALFORMED',
    'TRL_PROTO_INVALID',
    'TRL_PROTO_IDENTITY_MISMATCH',
    'TRL_PROTO_NO_REPLY',
  ],
  status: [
    'TRL_PROTO_TOO_LARGE',
    'TRL_PROTO_MALFORMED',
    'TRL_PROTO_INVALID',
    'TRL_PROTO_IDENTITY_MISMATCH',
  ],
  telemetry: [
    'TRL_PROTO_TOO_LARGE',
    'TRL_PROTO_MALFORMED',
    'TRL_PROTO_INVALID',
    'TRL_PROTO_IDENTITY_MISMATCH',
    'TRL_TELEMETRY_TOO_MANY_SIDECARS',
  ],
};
const STORE_OUTCOMES: readonly StoreWriteOutcome[] = ['written', 'conflict', 'too_large', 'error'];

/** What the gauges read when scraped. */
export interface MetricSources {
  sidecarStates(): Record<SyncState, number>;
  isWriter(): boolean;
  storedVersion(): number;
}

export interface DeliveryMetricsOptions {
  /** Default: a fresh registry (so several instances can live in one process, as in tests). */
  readonly registry?: Registry;
  /** Adds Node's process metrics (CPU, memory, event loop) to the registry. */
  readonly processMetrics?: boolean;
}

export class DeliveryMetrics {
  readonly registry: Registry;
  readonly pushes: Counter<'kind'>;
  readonly ackLatency: Histogram;
  readonly nacks: Counter;
  readonly resyncRequests: Counter;
  readonly syncRequests: Counter<'reply'>;
  readonly rejected: Counter<'subject' | 'code'>;
  readonly storeWrites: Counter<'outcome'>;
  #sources: MetricSources | undefined;

  constructor(options: DeliveryMetricsOptions = {}) {
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    const registers = [registry];
    const sources = (): MetricSources | undefined => this.#sources;
    new Gauge({
      name: `${METRIC_PREFIX}sidecars`,
      help: 'Known sidecars by sync state',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = sources()?.sidecarStates();
        for (const state of SYNC_STATES) this.set({ state }, counts?.[state] ?? 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}writer`,
      help: '1 while this replica holds the writer lease',
      registers,
      collect() {
        this.set(sources()?.isWriter() ? 1 : 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}config_version`,
      help: 'Newest stored config version this replica knows (0: none)',
      registers,
      collect() {
        this.set(sources()?.storedVersion() ?? 0);
      },
    });
    this.pushes = new Counter({
      name: `${METRIC_PREFIX}config_pushes_total`,
      help: 'Config updates published (increment, resync marker, or head re-announced after a reconnect)',
      labelNames: ['kind'],
      registers,
    });
    this.ackLatency = new Histogram({
      name: `${METRIC_PREFIX}push_ack_latency_seconds`,
      help: 'From a version being stored (or seen stored) to each sidecar ACK of it',
      buckets: ACK_LATENCY_BUCKETS,
      registers,
    });
    this.nacks = new Counter({
      name: `${METRIC_PREFIX}nacks_total`,
      help: 'NACKs received from sidecars',
      registers,
    });
    this.resyncRequests = new Counter({
      name: `${METRIC_PREFIX}resync_requests_total`,
      help: 'Sync requests from sidecars holding a version other than the newest (gap, hash mismatch, reconnect)',
      registers,
    });
    this.syncRequests = new Counter({
      name: `${METRIC_PREFIX}sync_requests_total`,
      help: 'Sync requests answered, by reply kind',
      labelNames: ['reply'],
      registers,
    });
    this.rejected = new Counter({
      name: `${METRIC_PREFIX}rejected_messages_total`,
      help: 'Messages from sidecars refused, by subject and error code',
      labelNames: ['subject', 'code'],
      registers,
    });
    this.storeWrites = new Counter({
      name: `${METRIC_PREFIX}store_writes_total`,
      help: 'Attempts to store a new config version, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    // Every series exists from the start, so rate() and alerts see zeros rather than gaps.
    for (const kind of ['increment', 'resync', 'head'] satisfies PushKind[])
      this.pushes.inc({ kind }, 0);
    for (const reply of REPLY_KINDS) this.syncRequests.inc({ reply }, 0);
    for (const [subject, codes] of Object.entries(REJECTIONS)) {
      for (const code of codes) this.rejected.inc({ subject, code }, 0);
    }
    for (const outcome of STORE_OUTCOMES) this.storeWrites.inc({ outcome }, 0);
    if (options.processMetrics) collectDefaultMetrics({ register: registry });
  }

  /** Connects the gauges to the live state. */
  bind(sources: MetricSources): void {
    this.#sources = sources;
  }

  reject(subject: RejectedSubject, code: RejectionCode): void {
    this.rejected.inc({ subject, code });
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
