// Sessions per destination (host:port). A request goes to the first session with a free stream
// slot; when every session is at the server's MAX_CONCURRENT_STREAMS the request waits in the
// destination's FIFO and another session is opened (up to maxSessionsPerOrigin). Sessions that
// drain (GOAWAY, ids used up, idle) stop receiving streams and are replaced on demand; dead ones
// are dropped. close() drains every session gracefully.
import { connectH2c } from './connect.js';
import { H2Error } from './errors.js';
import { ClientStream } from './h2-client-stream.js';
import type { H2ClientStream, StreamHost } from './h2-client-stream.js';
import { attachStream } from './h2-session.js';
import type {
  H2RequestOptions,
  H2Session,
  H2SessionEvents,
  H2SessionOptions,
} from './h2-session.js';
import { requestFieldList } from './headers.js';
import type { HeaderInput } from './headers.js';

export interface H2PoolOptions extends Omit<H2SessionOptions, 'events'> {
  /** Sessions per destination at most. Default 4. */
  readonly maxSessionsPerOrigin?: number;
  /** TCP connect plus server SETTINGS budget. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Idle sessions close after this long. Default 60 s (0 keeps them). */
  readonly idleTimeoutMs?: number;
}

export interface H2Origin {
  readonly host: string;
  readonly port: number;
}

/** Counters for one destination. */
export interface H2DestinationStats {
  readonly sessions: number;
  readonly connecting: number;
  /** Streams waiting for a session slot. */
  readonly queued: number;
  /** Streams open across this destination's sessions. */
  readonly active: number;
}

/** Requests to one destination; keep it to skip the per-request destination lookup. */
export interface H2Destination {
  readonly origin: H2Origin;
  request(headers: HeaderInput, options?: H2RequestOptions): H2ClientStream;
  stats(): H2DestinationStats;
}

export class H2Pool {
  readonly #options: H2PoolOptions;
  readonly #destinations = new Map<string, Destination>();
  #closed = false;

  constructor(options: H2PoolOptions = {}) {
    this.#options = options;
  }

  /** The destination for host:port, created on first use. */
  destination(origin: H2Origin): H2Destination {
    const key = `${origin.host}:${origin.port}`;
    let d = this.#destinations.get(key);
    if (d === undefined) {
      d = new Destination(
        { host: origin.host, port: origin.port },
        this.#options,
        () => this.#closed,
      );
      this.#destinations.set(key, d);
    }
    return d;
  }

  request(origin: H2Origin, headers: HeaderInput, options?: H2RequestOptions): H2ClientStream {
    return this.destination(origin).request(headers, options);
  }

  /** Graceful shutdown: queued streams fail (TRL_H2_POOL_CLOSED), open ones finish. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#destinations.values()].map((d) => d.close()));
  }
}

class Destination implements H2Destination, StreamHost, H2SessionEvents {
  readonly origin: H2Origin;
  readonly #options: H2PoolOptions;
  readonly #poolClosed: () => boolean;
  readonly #maxSessions: number;
  readonly #highWaterMark: number;
  /** Sessions taking new streams. */
  #sessions: H2Session[] = [];
  /** Sessions finishing their streams after GOAWAY/close; kept for close() to await. */
  readonly #draining = new Set<H2Session>();
  #connecting = 0;
  #queue: ClientStream[] = [];

  constructor(origin: H2Origin, options: H2PoolOptions, poolClosed: () => boolean) {
    this.origin = origin;
    this.#options = options;
    this.#poolClosed = poolClosed;
    this.#maxSessions = Math.max(1, options.maxSessionsPerOrigin ?? 4);
    this.#highWaterMark = options.streamHighWaterMark ?? 64 << 10;
  }

  request(headers: HeaderInput, options: H2RequestOptions = {}): H2ClientStream {
    const stream = new ClientStream(
      requestFieldList(headers),
      options.handler,
      this.#highWaterMark,
      options.endStream === true,
    );
    if (this.#poolClosed()) {
      const error = new H2Error('TRL_H2_POOL_CLOSED', 'pool is closed', { retriable: true });
      queueMicrotask(() => stream.fail(error));
      return stream;
    }
    const session = this.#pick();
    if (session !== undefined) {
      session[attachStream](stream);
    } else {
      stream.host = this;
      this.#queue.push(stream);
      this.#maybeConnect();
    }
    return stream;
  }

  stats(): H2DestinationStats {
    let active = 0;
    for (const s of this.#sessions) active += s.activeStreams;
    for (const s of this.#draining) active += s.activeStreams;
    return {
      sessions: this.#sessions.length,
      connecting: this.#connecting,
      queued: this.#queue.length,
      active,
    };
  }

  async close(): Promise<void> {
    const queued = this.#queue;
    this.#queue = [];
    const error = new H2Error('TRL_H2_POOL_CLOSED', 'pool closed', { retriable: true });
    for (const s of queued) s.fail(error);
    const all = [...this.#sessions, ...this.#draining];
    await Promise.all(all.map((s) => s.close()));
  }

  #pick(): H2Session | undefined {
    const sessions = this.#sessions;
    for (let i = 0; i < sessions.length; i++) {
      if (sessions[i]!.availableStreams > 0) return sessions[i];
    }
    return undefined;
  }

  #dispatchQueue(): void {
    while (this.#queue.length > 0) {
      const session = this.#pick();
      if (session === undefined) break;
      const stream = this.#queue.shift()!;
      if (stream.terminated) continue;
      stream.host = null;
      session[attachStream](stream);
    }
    if (this.#queue.length > 0) this.#maybeConnect();
  }

  // One connect at a time: once it lands and takes its share, the rest of the queue decides
  // whether another session is needed.
  #maybeConnect(): void {
    if (this.#poolClosed() || this.#connecting > 0) return;
    if (this.#sessions.length >= this.#maxSessions) return;
    this.#connecting++;
    connectH2c({
      ...this.#options,
      idleTimeoutMs: this.#options.idleTimeoutMs ?? 60_000,
      host: this.origin.host,
      port: this.origin.port,
      events: this,
    }).then(
      (session) => {
        this.#connecting--;
        if (this.#poolClosed()) {
          void session.close();
          return;
        }
        if (session.isAccepting) this.#sessions.push(session);
        this.#dispatchQueue();
      },
      (error: H2Error) => {
        this.#connecting--;
        // Nothing else can serve the queue: fail it now rather than retry forever.
        if (this.#sessions.length === 0) {
          const queued = this.#queue;
          this.#queue = [];
          for (const s of queued) s.fail(error);
        } else {
          this.#dispatchQueue();
        }
      },
    );
  }

  // === StreamHost: streams waiting in the queue ===

  flushStream(): void {
    // Body bytes stay queued on the stream until a session takes it.
  }

  resetStream(stream: ClientStream): void {
    const i = this.#queue.indexOf(stream);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  consumed(): void {
    // Nothing received before a session takes the stream.
  }

  // === H2SessionEvents ===

  onCapacity(): void {
    if (this.#queue.length > 0) this.#dispatchQueue();
  }

  onDraining(session: H2Session): void {
    this.#sessions = this.#sessions.filter((s) => s !== session);
    if (!session.isClosed) this.#draining.add(session);
    if (this.#queue.length > 0) this.#maybeConnect();
  }

  onClose(session: H2Session): void {
    this.#sessions = this.#sessions.filter((s) => s !== session);
    this.#draining.delete(session);
    if (this.#queue.length > 0) this.#maybeConnect();
  }
}
