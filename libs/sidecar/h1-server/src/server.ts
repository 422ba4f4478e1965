// The HTTP/1.1 downstream server: takes sockets someone else accepted (the proxy listener sniffs
// the first bytes for the HTTP/2 preface and hands HTTP/1.1 ones over with the bytes it read),
// runs one H1ServerConnection per socket, and tracks them for draining.
import type { Socket } from 'node:net';
import { H1ServerConnection } from './connection.js';
import type { ConnectionOwner } from './connection.js';
import { resolveConfig } from './types.js';
import type { H1ServerOptions, ServerConfig } from './types.js';

export class H1Server implements ConnectionOwner {
  readonly #config: ServerConfig;
  readonly #connections = new Set<H1ServerConnection>();
  #draining = false;
  #drained: (() => void)[] = [];

  constructor(options: H1ServerOptions) {
    this.#config = resolveConfig(options);
  }

  /**
   * Serves HTTP/1.1 on `socket`. `initialBytes` were already read from it and are parsed first.
   * For a client that half-closes after its request to still get the answer, the accepting
   * server should be created with `allowHalfOpen: true`.
   */
  handle(socket: Socket, initialBytes?: Buffer): void {
    const connection = new H1ServerConnection(this, this.#config, socket);
    this.#connections.add(connection);
    // A connection that arrives while draining still gets the request it already sent answered.
    connection.start(initialBytes, this.#draining);
  }

  /** Open connections (upgraded ones are no longer counted). */
  get connections(): number {
    return this.#connections.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Graceful drain: idle connections close now, each in-flight response carries
   * `Connection: close` (when its head is not out yet) and its connection closes after it, and
   * no further request is read. Resolves when every connection has closed.
   */
  drain(): Promise<void> {
    this.#draining = true;
    for (const connection of [...this.#connections]) connection.drain();
    if (this.#connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Closes the connections that wait for a request; returns how many it closed. */
  closeIdle(): number {
    let closed = 0;
    for (const connection of [...this.#connections]) if (connection.closeIfIdle()) closed++;
    return closed;
  }

  /** Destroys every connection now (a drain deadline passed). */
  destroy(): void {
    for (const connection of [...this.#connections]) connection.destroy();
  }

  connectionClosed(connection: H1ServerConnection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0 && this.#drained.length > 0) {
      const waiting = this.#drained;
      this.#drained = [];
      for (const resolve of waiting) resolve();
    }
  }
}
