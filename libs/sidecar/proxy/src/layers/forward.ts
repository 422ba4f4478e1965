// The innermost handler: sends one attempt to the endpoint the balance layer picked, over the
// destination's protocol, streaming the request body and resolving at the response head. The
// per-try timeout and outer cancellation abort the call.
import type { Protocol } from '@trellis/config';
import type { Timer } from '@trellis/time';
import type { Handler, ProxyRequest } from '../context.js';
import { getHeader, keepForwardable } from '../flat-headers.js';
import type { FlatHeaders } from '../flat-headers.js';
import { UpstreamBody } from '../response.js';
import type { ProxyResponse } from '../response.js';
import type { AttemptTrace } from '../tracing.js';
import { UpstreamError } from '../upstream.js';
import type {
  UpstreamCall,
  UpstreamConnector,
  UpstreamHandler,
  UpstreamTarget,
} from '../upstream.js';

/**
 * Whether trailers may follow the body. Announcing them (Trailer, gRPC) is optional: HTTP/2 may
 * send trailers on any response, HTTP/1.1 on any chunked one (a body without Content-Length).
 */
function mayHaveTrailers(protocol: Protocol, headers: readonly string[]): boolean {
  if (protocol !== 'http1') return true;
  const type = getHeader(headers, 'content-type');
  return (
    (type !== undefined && type.startsWith('application/grpc')) ||
    getHeader(headers, 'trailer') !== undefined ||
    getHeader(headers, 'content-length') === undefined
  );
}

/** Gives the request body to `call`, or to a wrapper of it (the mirror layer's body tap). */
export type BodyTap = (request: ProxyRequest, call: UpstreamCall) => UpstreamCall;

export function forwardHandler(connector: UpstreamConnector, bodyTap?: BodyTap): Handler {
  return (request) =>
    new Promise<ProxyResponse>((resolve, reject) => {
      const upstream = request.upstream;
      if (!upstream) {
        reject(
          new Error(
            'forward reached without an upstream: the balance or inbound layer must run first',
          ),
        );
        return;
      }
      new ForwardAttempt(request, upstream, resolve, reject).send(connector, bodyTap);
    });
}

const ATTEMPT_HEADER = 'x-trellis-attempt';

/**
 * One attempt in flight: the upstream call's handler and its cancellation. One object per
 * attempt with methods, not a closure per callback: these ran for every request.
 */
class ForwardAttempt implements UpstreamHandler {
  readonly #request: ProxyRequest;
  readonly #upstream: UpstreamTarget;
  readonly #resolve: (response: ProxyResponse) => void;
  readonly #reject: (error: UpstreamError) => void;
  readonly #body = new UpstreamBody();
  #span: AttemptTrace | undefined;
  #call: UpstreamCall | undefined;
  #timer: Timer | undefined;
  #settled = false;

  constructor(
    request: ProxyRequest,
    upstream: UpstreamTarget,
    resolve: (response: ProxyResponse) => void,
    reject: (error: UpstreamError) => void,
  ) {
    this.#request = request;
    this.#upstream = upstream;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  send(connector: UpstreamConnector, bodyTap: BodyTap | undefined): void {
    const request = this.#request;
    // concat: one exact-size copy (a slice then push grew the copy once more).
    const headers = request.headers.concat(ATTEMPT_HEADER, String(request.attempt));
    const span = request.trace?.startAttempt(request, headers);
    this.#span = span;
    if (span)
      this.#body.whenDone((outcome) =>
        span.end(outcome === 'upstream-error' ? 'reset' : undefined),
      );
    const call = connector.request(
      this.#upstream,
      {
        method: request.exchange.method,
        target: request.upstreamTarget,
        authority: request.upstreamAuthority,
        headers,
        hasBody: request.exchange.hasBody,
      },
      this,
    );
    this.#call = call;
    this.#body.bind(call);
    request.onCancel = this.#onCancel;
    if (Number.isFinite(request.attemptDeadlineAt))
      this.#timer = request.clock.setTimer(
        request.attemptDeadlineAt - request.clock.now(),
        this.#onPerTryTimeout,
      );
    if (request.body) request.body.attach(bodyTap ? bodyTap(request, call) : call);
  }

  /**
   * RFC 9110 §15.2: a proxy forwards the 1xx it did not ask for itself (100 Continue is each
   * side's own business; the writer drops it, and whatever else its client cannot take).
   * An attempt given up (timeout, cancel) relays nothing more.
   */
  onInformational(status: number, headers: FlatHeaders): void {
    if (this.#settled) return;
    this.#request.exchange.response.informational(status, keepForwardable(headers));
  }

  onResponseHead(status: number, headers: FlatHeaders): void {
    if (this.#settled) return;
    this.#settle();
    this.#span?.response(status, headers);
    const upstream = this.#upstream;
    this.#resolve({
      status,
      headers,
      body: this.#body,
      trailers: mayHaveTrailers(upstream.protocol, headers),
      error: undefined,
      endpoint: `${upstream.address}:${upstream.port}`,
    });
  }

  onData(chunk: Buffer): void {
    this.#body.push(chunk);
  }

  onEnd(trailers: FlatHeaders | undefined): void {
    this.#span?.trailers(trailers);
    this.#body.end(trailers);
  }

  onError(error: UpstreamError): void {
    if (this.#settled) {
      this.#body.fail(error);
      return;
    }
    this.#settle();
    this.#span?.end(error.failure);
    this.#reject(error);
  }

  readonly #onCancel = (): void =>
    this.#fail(new UpstreamError('reset', `request cancelled (${this.#request.cancelled})`));

  readonly #onPerTryTimeout = (): void => {
    const { address, port } = this.#upstream;
    this.#fail(
      new UpstreamError(
        'per-try-timeout',
        `no response from ${address}:${port} within the per-try timeout`,
      ),
    );
  };

  #fail(error: UpstreamError): void {
    if (this.#settled) return;
    this.#settle();
    this.#call?.abort();
    this.#request.body?.detach();
    this.#span?.end(error.failure);
    this.#reject(error);
  }

  #settle(): void {
    this.#settled = true;
    this.#timer?.cancel();
    if (this.#request.onCancel === this.#onCancel) this.#request.onCancel = undefined;
  }
}
