// The pool's default socket: a net.Socket whose failed writes do not destroy it.
//
// An upstream may answer before it has read the whole request body (413, 401) and close. The
// next body write then fails with EPIPE or ECONNRESET, and a plain net.Socket destroys itself
// on a write error — a synchronous one within the same tick — so the answer already sitting in
// the kernel's receive buffer is never read and the request looks reset. Here a write error is
// recorded instead, later writes are dropped, and reading goes on: the read side then delivers
// the answer and the peer's FIN or reset, which the connection handles as usual.
import { Socket } from 'node:net';

type WriteCallback = (error?: Error | null) => void;

export class UpstreamSocket extends Socket {
  /** The first write error; once set, writes are dropped and the connection is not reused. */
  writeError: Error | null = null;
  /** The callback of the write in progress (a Writable runs one _write/_writev at a time). */
  #callback: WriteCallback | null = null;

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: WriteCallback): void {
    if (this.writeError !== null) {
      callback();
      return;
    }
    this.#callback = callback;
    super._write(chunk, encoding, this.#written);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: WriteCallback,
  ): void {
    if (this.writeError !== null) {
      callback();
      return;
    }
    this.#callback = callback;
    (super._writev as NonNullable<Socket['_writev']>)(chunks, this.#written);
  }

  readonly #written = (error?: Error | null): void => {
    const callback = this.#callback as WriteCallback;
    this.#callback = null;
    const code = (error as NodeJS.ErrnoException | null | undefined)?.code;
    if (code === 'EPIPE' || code === 'ECONNRESET') {
      // The peer is gone for writing; what it sent before is still to be read.
      this.writeError = error as Error;
      callback();
    } else {
      callback(error);
    }
  };
}

/** Whether a write on `socket` failed (only UpstreamSocket records it). */
export function writeFailed(socket: Socket): boolean {
  return socket instanceof UpstreamSocket && socket.writeError !== null;
}
