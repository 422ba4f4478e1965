// A response handler for tests that records every callback and resolves when the exchange ends.
import type { Socket } from 'node:net';
import type { H1Error } from '../errors.js';
import type { H1Pool } from '../pool.js';
import type { H1RequestInit, H1ResponseHandler, RequestHandle } from '../types.js';

export interface Informational {
  status: number;
  reason: string;
  headers: string[];
}

export interface Outcome {
  status: number;
  reason: string;
  headers: string[];
  keepAlive: boolean;
  body: Buffer;
  trailers: string[] | null;
  informational: Informational[];
  error: H1Error | null;
  ended: boolean;
  upgrade: { socket: Socket; head: Buffer } | null;
  /** Callback names in order, for ordering assertions. */
  calls: string[];
}

export class Collector implements H1ResponseHandler {
  readonly outcome: Outcome = {
    status: 0,
    reason: '',
    headers: [],
    keepAlive: false,
    body: Buffer.alloc(0),
    trailers: null,
    informational: [],
    error: null,
    ended: false,
    upgrade: null,
    calls: [],
  };
  readonly done: Promise<Outcome>;
  readonly chunks: Buffer[] = [];
  /** Optional hook run on each body chunk (e.g. to pause). */
  onChunk: ((chunk: Buffer) => void) | null = null;
  #resolve!: (outcome: Outcome) => void;

  constructor() {
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  onInformational(status: number, reason: string, headers: string[]): void {
    this.outcome.calls.push(`info:${status}`);
    this.outcome.informational.push({ status, reason, headers });
  }

  onResponseHead(status: number, reason: string, headers: string[], keepAlive: boolean): void {
    this.outcome.calls.push(`head:${status}`);
    Object.assign(this.outcome, { status, reason, headers, keepAlive });
  }

  onData(chunk: Buffer): void {
    if (this.outcome.calls.at(-1) !== 'data') this.outcome.calls.push('data');
    // Copy: the pool hands out views that the test keeps past the callback.
    this.chunks.push(Buffer.from(chunk));
    this.onChunk?.(chunk);
  }

  onTrailers(trailers: string[]): void {
    this.outcome.calls.push('trailers');
    this.outcome.trailers = trailers;
  }

  onEnd(): void {
    this.outcome.calls.push('end');
    this.outcome.ended = true;
    this.#finish();
  }

  onError(error: H1Error): void {
    this.outcome.calls.push(`error:${error.code}`);
    this.outcome.error = error;
    this.#finish();
  }

  onUpgrade(socket: Socket, head: Buffer): void {
    this.outcome.calls.push('upgrade');
    this.outcome.upgrade = { socket, head: Buffer.from(head) };
    this.#finish();
  }

  #finish(): void {
    this.outcome.body = Buffer.concat(this.chunks);
    this.#resolve(this.outcome);
  }
}

/** Sends a request (body optional) and waits for its outcome. */
export function exchange(
  pool: H1Pool,
  init: H1RequestInit,
  body?: Buffer,
): { handle: RequestHandle; collector: Collector; done: Promise<Outcome> } {
  const collector = new Collector();
  const handle = pool.request(init, collector);
  if (body !== undefined) {
    handle.write(body);
    handle.end();
  }
  return { handle, collector, done: collector.done };
}

/** Shorthand for a GET with no extra headers. */
export function get(path: string, headers: string[] = []): H1RequestInit {
  return { method: 'GET', path, headers, hasBody: false };
}
