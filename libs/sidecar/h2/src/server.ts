// A lean HTTP/2 cleartext server: it never listens itself. Whoever accepted the connection and
// sniffed its first bytes hands the socket over, either after the client preface (prior
// knowledge: serve) or after an HTTP/1.1 `Upgrade: h2c` request (upgrade). Tracks its sessions
// for a graceful drain and a hard stop.
import type { Socket } from 'node:net';
import { resolveServerConfig } from './server-config.js';
import type { H2ServerOptions, ServerConfig } from './server-config.js';
import { H2ServerSession } from './server-session.js';
import type { SessionOwner } from './server-session.js';
import { upgradedRequest } from './upgrade.js';
import type { H2cUpgradeRequest } from './upgrade.js';

export class H2Server implements SessionOwner {
  readonly #config: ServerConfig;
  readonly #sessions = new Set<H2ServerSession>();
  #draining = false;

  constructor(options: H2ServerOptions) {
    this.#config = resolveServerConfig(options);
  }

  /** Open connections. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Streams open now on all connections (request or response still in progress). */
  get activeStreams(): number {
    let streams = 0;
    for (const session of this.#sessions) streams += session.activeStreams;
    return streams;
  }

  /**
   * Serves a prior-knowledge connection. `alreadyRead`: bytes the caller read while sniffing,
   * starting with (part of) the client preface; the socket must have no 'data' listener left.
   */
  serve(socket: Socket, alreadyRead: Buffer): void {
    this.#track(new H2ServerSession(socket, this.#config, this, alreadyRead));
  }

  /**
   * Takes over a connection whose HTTP/1.1 request asked for `Upgrade: h2c` (checked by
   * isH2cUpgrade): answers 101 and serves the request as stream 1. `rest`: bytes read past the
   * request head (the client preface follows the request).
   */
  upgrade(socket: Socket, request: H2cUpgradeRequest, rest: Buffer): void {
    const upgraded = upgradedRequest(request);
    if (upgraded === null) {
      socket.destroy();
      return;
    }
    this.#track(new H2ServerSession(socket, this.#config, this, rest, upgraded));
  }

  /** GOAWAY on every connection (and on those served from now on); open streams finish. */
  drain(): void {
    this.#draining = true;
    for (const session of [...this.#sessions]) session.drain();
  }

  /** Closes every connection now. */
  destroy(): void {
    for (const session of [...this.#sessions]) session.destroy();
  }

  sessionClosed(session: H2ServerSession): void {
    this.#sessions.delete(session);
  }

  #track(session: H2ServerSession): void {
    if (session.isClosed) return;
    this.#sessions.add(session);
    if (this.#draining) session.drain();
  }
}
