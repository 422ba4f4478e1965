// Request mirroring (shadow traffic): for a route with a `mirror`, a share of its requests is
// copied to the mirror service — same method, target and headers, the authority suffixed
// `-shadow` as Envoy does — through the mirror cluster's own limits, balancer and pools. A copy
// is fire-and-forget: never awaited, never retried, bounded by its own timeout, its response
// read and thrown away. It cannot slow the primary: a request body is copied only once the
// client has sent all of it and it fit in the replay buffer (so the copy never pulls on the
// client), and a mirror too slow to answer within the timeout is abandoned. Copies sent,
// dropped and failed are counted in the sidecar stats.
import type { Outcome } from '@trellis/sidecar-balance';
import { shadowAuthority, shouldMirror } from '@trellis/sidecar-routing';
import type { ServicePortRef } from '@trellis/sidecar-routing';
import type { Clock } from '@trellis/time';
import type { Layer, ProxyRequest } from '../context.js';
import { getHeader } from '../flat-headers.js';
import type { FlatHeaders } from '../flat-headers.js';
import type { ProxyResponse } from '../response.js';
import type { ProxyRuntime } from '../runtime.js';
import type { SidecarStats } from '../stats.js';
import type { UpstreamCall, UpstreamConnector, UpstreamHandler } from '../upstream.js';
import { outcomeOfError, outcomeOfStatus } from './balance.js';

/** The counters a copy can end in (sent copies also count in `mirror_requests`). */
export type MirrorCounter = 'mirror_requests' | 'mirror_dropped' | 'mirror_failed';

/** Lifetime of a copy whose route sets no timeout: Envoy's default route timeout. */
export const DEFAULT_MIRROR_TIMEOUT_MS = 15_000;

export interface MirrorOptions {
  readonly connector: UpstreamConnector;
  /** Where copies are counted (the sidecar's stats); omitted, nothing is counted. */
  readonly stats?: Pick<SidecarStats, 'increment'>;
  /** Lifetime of a copy whose route has no `timeout`, ms. */
  readonly defaultTimeoutMs?: number;
}

/** What a copy sends, fixed when the layer decides to mirror (after the route's edits). */
interface Copy {
  readonly target: ServicePortRef;
  readonly runtime: ProxyRuntime;
  readonly clock: Clock;
  readonly random: () => number;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: FlatHeaders;
  readonly hasBody: boolean;
  readonly timeoutMs: number;
}

/**
 * Mirroring for one stack: `layer()` decides per request and sends bodiless copies at once;
 * `tapBody` is given to the forward handler so a copy waiting for its body learns when the
 * client's body has ended.
 */
export class RequestMirror {
  readonly #connector: UpstreamConnector;
  readonly #stats: Pick<SidecarStats, 'increment'> | undefined;
  readonly #defaultTimeoutMs: number;
  /** Copies whose request body is still arriving, by request. Empty unless mirroring. */
  readonly #awaitingBody = new Map<ProxyRequest, Copy>();

  constructor(options: MirrorOptions) {
    this.#connector = options.connector;
    this.#stats = options.stats;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_MIRROR_TIMEOUT_MS;
  }

  /** Copies waiting for their request body (for tests and the admin view). */
  get awaitingBody(): number {
    return this.#awaitingBody.size;
  }

  layer(): Layer {
    return (next) => (request) => {
      // Routes without a mirror (the common case) pass straight through, allocating nothing.
      const mirror = request.route?.route.mirror;
      if (mirror === undefined || !shouldMirror(mirror.percent, request.random)) {
        return next(request);
      }
      const copy = this.#copyOf(request, mirror.target);
      if (!request.body) {
        this.#send(copy, undefined, undefined);
        return next(request);
      }
      this.#awaitingBody.set(request, copy);
      return next(request).then(
        (response) => {
          this.#abandonWhenDone(request, response);
          return response;
        },
        (error: unknown) => {
          this.#abandon(request);
          throw error;
        },
      );
    };
  }

  /**
   * The forward handler's hook: the call an attempt's request body is fed to. While a copy waits
   * for this request's body, the call is wrapped so its end sends the copy; otherwise it is
   * returned as is (one Map size check).
   */
  readonly tapBody = (request: ProxyRequest, call: UpstreamCall): UpstreamCall => {
    if (this.#awaitingBody.size === 0 || !this.#awaitingBody.has(request)) return call;
    return new BodyEndTap(call, (trailers) => this.#bodyEnded(request, trailers));
  };

  #copyOf(request: ProxyRequest, target: ServicePortRef): Copy {
    return {
      target,
      runtime: request.runtime,
      clock: request.clock,
      random: request.random,
      method: request.exchange.method,
      path: request.upstreamTarget,
      authority: shadowAuthority(request.upstreamAuthority),
      headers: request.headers.slice(),
      hasBody: request.exchange.hasBody,
      timeoutMs: request.route?.route.timeoutMs ?? this.#defaultTimeoutMs,
    };
  }

  #bodyEnded(request: ProxyRequest, trailers: FlatHeaders | undefined): void {
    const copy = this.#awaitingBody.get(request);
    if (!copy) return;
    this.#awaitingBody.delete(request);
    // Every chunk is in the replay buffer by now, unless the body outgrew it.
    const chunks = request.body?.buffer.replay();
    if (chunks) this.#send(copy, chunks, trailers);
    else this.#count('mirror_dropped');
  }

  /** The primary is answered: a copy whose body has not ended by the time it is done is dropped. */
  #abandonWhenDone(request: ProxyRequest, response: ProxyResponse): void {
    if (!this.#awaitingBody.has(request)) return;
    if (response.body) response.body.whenDone(() => this.#abandon(request));
    else this.#abandon(request);
  }

  #abandon(request: ProxyRequest): void {
    if (this.#awaitingBody.delete(request)) this.#count('mirror_dropped');
  }

  #send(
    copy: Copy,
    chunks: readonly Uint8Array[] | undefined,
    trailers: FlatHeaders | undefined,
  ): void {
    const cluster = copy.runtime.cluster(copy.target.key);
    if (!cluster) {
      this.#count('mirror_dropped');
      return;
    }
    // The mirror destination's own limits: a saturated mirror sheds copies, never queues them.
    const admission = cluster.breaker.tryAcquire('active-requests');
    if (!admission.admitted) {
      this.#count('mirror_dropped');
      return;
    }
    const hashHeader = cluster.settings.hashHeader;
    const endpoint = cluster.balancer.pick({
      hashKey: hashHeader ? getHeader(copy.headers, hashHeader) : undefined,
      random: copy.random,
    });
    if (!endpoint) {
      admission.release();
      this.#count('mirror_dropped');
      return;
    }
    this.#count('mirror_requests');
    const { clock } = copy;
    const lease = cluster.endpoints.start(endpoint);
    const startedAt = clock.now();
    let status = 0;
    let done = false;
    // A copy that gets no answer in time is abandoned (the callback runs after `call` is set).
    const timer = clock.setTimer(copy.timeoutMs, () => {
      finish('mirror_dropped', 'timeout');
      call.abort();
    });
    const finish = (counter: MirrorCounter | undefined, outcome: Outcome) => {
      if (done) return;
      done = true;
      timer.cancel();
      lease.end({ outcome, latencyMs: clock.now() - startedAt });
      admission.release();
      if (counter) this.#count(counter);
    };
    const handler: UpstreamHandler = {
      onResponseHead: (responseStatus) => {
        status = responseStatus;
      },
      // The body is read (so a keep-alive connection stays reusable) and thrown away.
      onData: () => undefined,
      onEnd: () => finish(status >= 500 ? 'mirror_failed' : undefined, outcomeOfStatus(status)),
      onError: (error) =>
        finish(
          error.failure === 'pool-overflow' ? 'mirror_dropped' : 'mirror_failed',
          outcomeOfError(error),
        ),
    };
    const call = this.#connector.request(
      {
        address: endpoint.endpoint.address,
        port: endpoint.endpoint.port,
        protocol: cluster.ref.protocol,
        pool: cluster.settings,
      },
      {
        method: copy.method,
        target: copy.path,
        authority: copy.authority,
        headers: copy.headers,
        hasBody: copy.hasBody,
      },
      handler,
    );
    if (chunks && !done) {
      // The whole body is already in memory (bounded by the replay limit): a slow mirror holds
      // these chunks until its timeout, and never holds up the client.
      for (const chunk of chunks) call.write(chunk as Buffer);
      call.end(trailers);
    }
  }

  #count(counter: MirrorCounter): void {
    this.#stats?.increment(counter);
  }
}

/** An attempt's upstream call that also reports the end of the request body. */
class BodyEndTap implements UpstreamCall {
  readonly #inner: UpstreamCall;
  readonly #onEnd: (trailers: FlatHeaders | undefined) => void;

  constructor(inner: UpstreamCall, onEnd: (trailers: FlatHeaders | undefined) => void) {
    this.#inner = inner;
    this.#onEnd = onEnd;
  }

  write(chunk: Buffer): boolean {
    return this.#inner.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.#inner.onDrain(callback);
  }

  end(trailers?: FlatHeaders): void {
    this.#inner.end(trailers);
    this.#onEnd(trailers);
  }

  abort(): void {
    this.#inner.abort();
  }

  pause(): void {
    this.#inner.pause();
  }

  resume(): void {
    this.#inner.resume();
  }
}
