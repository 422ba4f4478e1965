// Bounded replay buffer for a request body: keeps references to the chunks already sent so a
// retry can send them again. Bodies over `maxBytes` are not worth holding in memory, so once the
// bound is crossed the buffer drops its chunks and the request is simply not retried (the
// RetryPolicy answers 'body-not-replayable'). Chunks are kept by reference, never copied: the
// caller must not reuse a chunk's memory after pushing it.
import { checkInteger } from './params.js';

export class ReplayBuffer {
  readonly maxBytes: number;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #replayable = true;

  constructor(maxBytes: number) {
    checkInteger('maxBytes', maxBytes, 0, Number.MAX_SAFE_INTEGER);
    this.maxBytes = maxBytes;
  }

  /** Whether every chunk pushed so far is still held. */
  get replayable(): boolean {
    return this.#replayable;
  }

  /** Bytes currently held (0 once no longer replayable). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Records a chunk that is being sent upstream. Returns whether the body is still replayable;
   * the chunk that crosses `maxBytes` releases everything.
   */
  push(chunk: Uint8Array): boolean {
    if (!this.#replayable) return false;
    if (this.#bytes + chunk.byteLength > this.maxBytes) {
      this.release();
      return false;
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.byteLength;
    return true;
  }

  /**
   * The chunks buffered so far, in order, for another attempt; undefined once not replayable.
   * The list is a snapshot: chunks pushed later (the client may still be sending) are not in it,
   * and a later release() does not truncate it.
   */
  replay(): readonly Uint8Array[] | undefined {
    return this.#replayable ? this.#chunks.slice() : undefined;
  }

  /** Drops the chunks (the body overflowed, or the request is finished) for good. */
  release(): void {
    this.#chunks = [];
    this.#bytes = 0;
    this.#replayable = false;
  }
}
