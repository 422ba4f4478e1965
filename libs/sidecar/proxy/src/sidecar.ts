// A running sidecar: its listeners (outbound and inbound, or one edge-gateway listener), the
// config holder they read from, counters, and the admin views. Where config comes from (a
// static file, the control plane) is wired by the caller through `holder`.
import type { HostPort } from '@trellis/address';
import { formatHostPort } from '@trellis/address';
import { errors } from '@trellis/sidecar-resilience';
import { ConfigHolder, configView } from '@trellis/sidecar-runtime';
import type { AdminEndpoints } from '@trellis/sidecar-admin';
import type { Clock } from '@trellis/time';
import type { Handler } from './context.js';
import type { ListenerLimits } from './listener.js';
import { ProxyListener, defaultListenerLimits } from './listener.js';
import { Proxy } from './proxy.js';
import { UpgradeProxy } from './upgrade.js';
import type { CompletedRequest } from './proxy.js';
import { ProxyRuntime } from './runtime.js';
import { buildInboundStack, buildStack } from './stack.js';
import { SidecarStats } from './stats.js';
import type { SidecarCounter } from './stats.js';
import type { RequestTracer } from './tracing.js';
import { targetKey } from './upstream.js';
import type { UpstreamConnector } from './upstream.js';

/** The logging calls the sidecar makes; pino's logger satisfies it. */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export type SidecarRole = 'sidecar' | 'gateway';

/** The gateway's default request body limit: it faces clients nobody vouches for. */
const GATEWAY_MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024;

export interface SidecarOptions {
  readonly role: SidecarRole;
  /** Sidecar role: where the app's outgoing calls arrive (default 127.0.0.1:15001). */
  readonly outbound?: HostPort;
  /** Sidecar role: where calls from other pods arrive, and the app they go to. */
  readonly inbound?: { readonly listen: HostPort; readonly app: HostPort };
  /** Gateway role: the public listener. */
  readonly gateway?: HostPort;
  readonly localNamespace: string;
  readonly localZone?: string;
  readonly drainTimeoutMs: number;
  readonly replayLimitBytes: number;
  readonly limits?: ListenerLimits;
  /**
   * Largest request body, bytes (Infinity: none); wins over `limits.maxRequestBodyBytes`.
   * Default: that limit when `limits` is given, else 10 MiB for the gateway (public traffic)
   * and none for the sidecar role (its own app's uploads).
   */
  readonly maxRequestBodyBytes?: number;
  readonly connector: UpstreamConnector;
  readonly clock: Clock;
  readonly random: () => number;
  readonly log: Logger;
  /** Observes every finished request (access log, metrics). */
  readonly onComplete?: (completed: CompletedRequest, listener: string) => void;
  /** Traces requests on every listener (spans, trace-context propagation). */
  readonly tracer?: RequestTracer;
}

/** One listener as `/stats` and the metrics show it. */
export interface ListenerStats {
  readonly address: string;
  /** Client connections open now (HTTP/1.1, HTTP/2 and upgraded tunnels alike). */
  readonly connections: number;
  /** HTTP/2 streams open now. */
  readonly streams: number;
  /** Upgraded connections (WebSocket …): open now, and opened since start. */
  readonly tunnels: { readonly active: number; readonly total: number };
}

interface NamedListener {
  readonly name: string;
  readonly address: HostPort;
  readonly listener: ProxyListener;
  /** WebSocket and other HTTP/1.1 upgrades arriving on this listener. */
  readonly upgrades: UpgradeProxy;
}

/** The /stats counter of each status class, by `status / 100`: no name built per request. */
const RESPONSE_CLASS_COUNTERS: readonly (SidecarCounter | undefined)[] = [
  undefined,
  undefined,
  'responses_2xx',
  'responses_3xx',
  'responses_4xx',
  'responses_5xx',
];

export class Sidecar {
  readonly holder: ConfigHolder<ProxyRuntime>;
  readonly stats = new SidecarStats();
  readonly #options: SidecarOptions;
  readonly #listeners: NamedListener[] = [];
  #bound: Record<string, HostPort> = {};
  #draining = false;

  constructor(options: SidecarOptions) {
    this.#options = options;
    const runtimeOptions = {
      localNamespace: options.localNamespace,
      localZone: options.localZone,
      clock: options.clock,
      random: options.random,
    };
    this.holder = new ConfigHolder((snapshot, previous: ProxyRuntime | undefined) =>
      ProxyRuntime.build(snapshot, previous, runtimeOptions),
    );
    this.holder.onApplied((applied) => {
      const keep = new Set<string>();
      for (const cluster of applied.runtime.clusters()) {
        for (const e of cluster.endpoints.endpoints)
          keep.add(targetKey({ ...e.endpoint, protocol: cluster.ref.protocol }));
      }
      if (options.inbound) {
        const { host: address, port } = options.inbound.app;
        for (const protocol of ['http1', 'h2c'] as const)
          keep.add(targetKey({ address, port, protocol }));
      }
      options.connector.retain(keep);
      for (const { upgrades } of this.#listeners) upgrades.retain(keep);
    });
    const outboundStack = buildStack(options.connector, { stats: this.stats });
    if (options.role === 'gateway') {
      this.#addListener(
        'gateway',
        options.gateway ?? { host: '0.0.0.0', port: 8080 },
        outboundStack,
      );
    } else {
      this.#addListener(
        'outbound',
        options.outbound ?? { host: '127.0.0.1', port: 15001 },
        outboundStack,
      );
      if (options.inbound)
        this.#addListener(
          'inbound',
          options.inbound.listen,
          buildInboundStack(options.connector, options.inbound.app),
        );
    }
  }

  /** Binds every listener; resolves with the bound addresses by listener name. */
  async start(): Promise<Record<string, HostPort>> {
    for (const { name, address, listener } of this.#listeners) {
      this.#bound[name] = await listener.listen(address.port, address.host);
    }
    return { ...this.#bound };
  }

  get ready(): boolean {
    return (
      !this.#draining &&
      this.holder.current !== undefined &&
      Object.keys(this.#bound).length === this.#listeners.length
    );
  }

  /** Graceful drain: no new connections, GOAWAY / Connection: close, in-flight requests finish. */
  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    const started = this.#options.clock.now();
    this.#options.log.info({ deadlineMs: this.#options.drainTimeoutMs }, 'draining');
    await Promise.all(
      this.#listeners.map(({ listener }) => listener.drain(this.#options.drainTimeoutMs)),
    );
    await Promise.all([
      this.#options.connector.close(),
      ...this.#listeners.map(({ upgrades }) => upgrades.close()),
    ]);
    this.#options.log.info({ tookMs: Math.round(this.#options.clock.now() - started) }, 'drained');
  }

  adminEndpoints(): AdminEndpoints {
    return {
      views: {
        '/live': () => ({ status: 200, body: 'live\n' }),
        '/ready': () =>
          this.ready
            ? { status: 200, body: 'ready\n' }
            : { status: 503, body: this.#draining ? 'draining\n' : 'not ready\n' },
        '/config': () => configView(this.holder, (runtime) => runtime.routes.hosts()),
        '/clusters': () => {
          const runtime = this.holder.current?.runtime;
          const clusters = runtime ? [...runtime.clusters()] : [];
          return {
            status: 200,
            body: clusters.map((c) => ({
              name: c.ref.key,
              protocol: c.ref.protocol,
              settings: c.settings,
              limits: {
                activeRequests: c.breaker.active('active-requests'),
                activeRetries: c.breaker.active('active-retries'),
              },
              ...c.endpoints.snapshot(),
            })),
          };
        },
        '/stats': () => ({
          status: 200,
          body: {
            ...this.stats.toJSON(),
            config_version: this.holder.current?.snapshot.version ?? 0,
            listeners: this.listenerStats(),
          },
        }),
      },
      actions: {
        '/drain': () => {
          void this.drain();
          return { status: 202, body: { draining: true } };
        },
      },
    };
  }

  /** Each listener's address and what is open on it now, by listener name. */
  listenerStats(): Record<string, ListenerStats> {
    return Object.fromEntries(
      this.#listeners.map(({ name, listener, upgrades }) => [
        name,
        {
          address: this.#bound[name] ? formatHostPort(this.#bound[name]) : '',
          connections: listener.connections,
          streams: listener.streams,
          tunnels: { active: upgrades.active, total: upgrades.total },
        },
      ]),
    );
  }

  #addListener(name: string, address: HostPort, stack: Handler): void {
    const options = this.#options;
    const inbound = name === 'inbound';
    const emptyRuntime = inbound
      ? ProxyRuntime.empty({
          localNamespace: options.localNamespace,
          clock: options.clock,
          random: options.random,
        })
      : undefined;
    const proxy = new Proxy({
      // Inbound traffic flows before (and whatever) the mesh config says.
      runtime: () => this.holder.current?.runtime ?? emptyRuntime,
      stack,
      clock: options.clock,
      random: options.random,
      replayLimitBytes: options.replayLimitBytes,
      onComplete: (completed) => this.#count(completed, name),
      tracer: options.tracer,
      listenerName: name,
      onInternalError: (error, request) => {
        this.stats.increment('internal_errors');
        options.log.error(
          { err: error, requestId: request.requestId, listener: name },
          'internal proxy error',
        );
      },
    });
    const limits = this.#limits();
    const upgrades = new UpgradeProxy({
      runtime: () => this.holder.current?.runtime ?? emptyRuntime,
      clock: options.clock,
      random: options.random,
      idleTimeoutMs: limits.idleTimeoutMs,
      app: inbound ? options.inbound?.app : undefined,
      onComplete: (completed) => this.#count(completed, name),
    });
    const listener = new ProxyListener(
      {
        onExchange: (exchange) => {
          this.stats.increment('requests_total');
          proxy.handle(exchange);
        },
        onUpgrade: (request, socket, head) => {
          this.stats.increment('requests_total');
          upgrades.handle(request, socket, head);
        },
        onBadRequest: (reason, protocol, remoteAddress) => {
          this.stats.increment('bad_requests');
          options.log.warn(
            { listener: name, reason, protocol, remoteAddress },
            'bad request rejected',
          );
        },
      },
      limits,
    );
    this.#listeners.push({ name, address, listener, upgrades });
  }

  #limits(): ListenerLimits {
    const options = this.#options;
    const limits = options.limits ?? defaultListenerLimits;
    const maxRequestBodyBytes =
      options.maxRequestBodyBytes ??
      (options.limits || options.role !== 'gateway'
        ? limits.maxRequestBodyBytes
        : GATEWAY_MAX_REQUEST_BODY_BYTES);
    return { ...limits, maxRequestBodyBytes };
  }

  #count(completed: CompletedRequest, listener: string): void {
    const { status, request, outcome } = completed;
    const byClass = RESPONSE_CLASS_COUNTERS[Math.floor(status / 100)];
    if (byClass !== undefined) this.stats.increment(byClass);
    if (request.record.error) this.stats.incrementLocal(request.record.error);
    if (request.record.attempts > 1)
      this.stats.increment('retries_total', request.record.attempts - 1);
    if (outcome === 'client-gone') this.stats.increment('client_aborts');
    if (outcome === 'upstream-error') this.stats.increment('upstream_body_errors');
    this.#options.onComplete?.(completed, listener);
  }
}

/** Every `x-trellis-error` value the proxy can answer with (for docs and tests). */
export const trellisErrorValues = Object.values(errors).map((e) => e.headerValue);
