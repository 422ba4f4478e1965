// The exchange shape the sidecar proxy consumes (libs/sidecar/proxy/src/exchange.ts), restated
// here because the proxy depends on this lib, not the reverse. TypeScript compares shapes, so an
// H1Exchange is a proxy DownstreamExchange as long as the two declarations stay identical.

/** [name, value, name, value, …] with lower-case names, order and repeats kept. */
export type FlatHeaders = string[];

/**
 * The interim statuses a ResponseWriter sends (102–199): 100 belongs to each side's own Expect
 * handling, 101 to upgrades. Every writer of the contract drops the others.
 */
export function isSentInterimStatus(status: number): boolean {
  return status >= 102 && status <= 199;
}

export interface BodyHandlers {
  onData(chunk: Buffer): void;
  /** Trailers arrive only on HTTP/2 and chunked HTTP/1.1 bodies. */
  onEnd(trailers: FlatHeaders | undefined): void;
  onError(error: Error): void;
}

export interface RequestBodyReader {
  /** Starts the flow of body chunks; call once. A request without body ends at once. */
  start(handlers: BodyHandlers): void;
  pause(): void;
  resume(): void;
}

export interface ResponseWriter {
  /**
   * Sends one interim (1xx) response before the head: 103 Early Hints and the like. Interim
   * responses are advisory, so one that cannot go is dropped, never thrown: after the head,
   * outside 102–199 (100 belongs to each side's own Expect handling, 101 to upgrades), to an
   * HTTP/1.0 client (RFC 9110 §15.2), or with a field the protocol cannot carry.
   */
  informational(status: number, headers: FlatHeaders): void;
  /**
   * Sends the status and headers. `endStream`: no body follows. `trailers`: trailers will
   * follow the body (HTTP/2 must know before the body starts).
   */
  head(status: number, headers: FlatHeaders, endStream: boolean, trailers: boolean): void;
  /** Returns false when the client is slow: wait for onDrain before writing more. */
  write(chunk: Buffer): boolean;
  /** Called once, the next time buffered output drains. */
  onDrain(callback: () => void): void;
  end(trailers?: FlatHeaders): void;
  /** Abandons the response mid-way: resets the stream (h2) or closes the connection (h1). */
  abort(): void;
  readonly headSent: boolean;
  readonly finished: boolean;
}

export interface DownstreamExchange {
  readonly protocol: 'http/1.1' | 'h2';
  readonly method: string;
  /** Host (HTTP/1.1) or :authority (HTTP/2). */
  readonly authority: string;
  /** Request target as received (origin form). */
  readonly target: string;
  /** Fields as received, names lower-cased, without pseudo-headers. */
  readonly headers: readonly string[];
  readonly remoteAddress: string;
  readonly hasBody: boolean;
  readonly body: RequestBodyReader;
  readonly response: ResponseWriter;
  /** Called once when the client goes away before the response finished. */
  onAbort(callback: () => void): void;
}
