// A raw HTTP/1.1 test client on one TCP connection: writes exact bytes and reads responses one at
// a time with a minimal parser (Content-Length, chunked, or no body), so tests see the exact
// framing the server chose and can keep using the same socket.
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Lower-case names, in order. */
  readonly headers: [string, string][];
  readonly body: Buffer;
  /** Trailer fields of a chunked body. */
  readonly trailers: [string, string][];
  /** The bytes of the whole response, latin1. */
  readonly raw: string;
}

export class RawClient {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  #data = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#data = Buffer.concat([this.#data, chunk]);
      this.#notify();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.#ended = true;
        this.#notify();
        resolve();
      }),
    );
    // Like most clients, answer the server's FIN by closing too.
    socket.on('end', () => {
      this.#ended = true;
      socket.end();
      this.#notify();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** The server closed its side (FIN or reset). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes received and not yet consumed by readResponse(). */
  get unread(): string {
    return this.#data.toString('latin1');
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits until `predicate` holds for the unread bytes, or the server closes. */
  async waitFor(predicate: (unread: string) => boolean): Promise<string> {
    while (!predicate(this.unread)) {
      if (this.#ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.unread)}`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    return this.unread;
  }

  /** Reads one response; `noBody` for answers to HEAD (the framing fields describe no bytes). */
  async readResponse(noBody = false): Promise<RawResponse> {
    const headEnd = (await this.waitFor((s) => s.includes('\r\n\r\n'))).indexOf('\r\n\r\n') + 4;
    const headText = this.#data.toString('latin1', 0, headEnd);
    const [statusLine = '', ...lines] = headText.slice(0, -4).split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
    const field = (name: string) => headers.find(([n]) => n === name)?.[1];
    let at = headEnd;
    const parts: Buffer[] = [];
    const trailers: [string, string][] = [];
    if (noBody || status === 204 || status === 304 || status < 200) {
      // no body
    } else if (field('transfer-encoding') === 'chunked') {
      for (;;) {
        const lineEnd = (await this.#waitBytes(at, '\r\n')) as number;
        const size = parseInt(this.#data.toString('latin1', at, lineEnd), 16);
        at = lineEnd + 2;
        if (size === 0) {
          for (;;) {
            const end = (await this.#waitBytes(at, '\r\n')) as number;
            if (end === at) break;
            const line = this.#data.toString('latin1', at, end);
            const colon = line.indexOf(':');
            trailers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
            at = end + 2;
          }
          at += 2;
          break;
        }
        await this.waitFor(() => this.#data.length >= at + size + 2);
        parts.push(this.#data.subarray(at, at + size));
        at += size + 2;
      }
    } else if (field('content-length') !== undefined) {
      const length = Number(field('content-length'));
      await this.waitFor(() => this.#data.length >= at + length);
      parts.push(this.#data.subarray(at, at + length));
      at += length;
    } else {
      // delimited by the close
      await this.closed;
      parts.push(this.#data.subarray(at));
      at = this.#data.length;
    }
    const raw = this.#data.toString('latin1', 0, at);
    const body = Buffer.from(Buffer.concat(parts));
    this.#data = Buffer.from(this.#data.subarray(at));
    return { status, headers, body, trailers, raw };
  }

  destroy(): void {
    this.socket.destroy();
  }

  async #waitBytes(from: number, needle: string): Promise<number> {
    await this.waitFor(() => this.#data.indexOf(needle, from, 'latin1') >= 0);
    return this.#data.indexOf(needle, from, 'latin1');
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/** The value of `name` in a response, or undefined. */
export function header(response: RawResponse, name: string): string | undefined {
  return response.headers.find(([n]) => n === name)?.[1];
}
