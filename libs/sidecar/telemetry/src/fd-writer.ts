// Writes whole chunks to a file descriptor (the access log's stdout) off the event loop: one
// fs.write at a time on the thread pool, in order, never blocking a request. A chunk is handed
// back once written or dropped, so the access log fills the same buffer again instead of
// allocating one per batch (pino's stream, sonic-boom, used before, cannot say when it is done
// with a chunk) and counts the lines it lost. A stdout that fails for good is reported once.
import { write as fsWrite } from 'node:fs';
import { systemClock } from '@trellis/time';
import type { Clock } from '@trellis/time';

/** fs.write's positional form: `length` bytes of `buffer` from `offset`, at the current position. */
export type WriteFn = (
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  callback: (error: NodeJS.ErrnoException | null, written: number) => void,
) => void;

export interface FdWriterOptions {
  readonly fd: number;
  /**
   * Most bytes queued or being written; a chunk past it is dropped (and handed back as such),
   * so a stalled reader costs lines, never unbounded memory.
   */
  readonly maxPendingBytes: number;
  /** Default: fs.write. */
  readonly write?: WriteFn;
  /** Schedules the retry after EAGAIN (a non-blocking pipe that is full). */
  readonly clock?: Clock;
  /** Called once, with the error that stopped writing (e.g. EPIPE: nobody reads stdout). */
  readonly onError?: (error: Error) => void;
}

/** How long a full non-blocking pipe is left to drain before the write is tried again. */
const EAGAIN_RETRY_MS = 10;

/** Hands a chunk back to its owner: written whole, or dropped. */
export type ChunkDone = (chunk: Buffer, dropped: boolean) => void;

interface Pending {
  readonly chunk: Buffer;
  readonly done: ChunkDone | undefined;
}

export class FdWriter {
  readonly #fd: number;
  readonly #maxPendingBytes: number;
  readonly #write: WriteFn;
  readonly #clock: Clock;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #queue: Pending[] = [];
  /** Bytes of the queued chunks not yet written. */
  #pendingBytes = 0;
  /** Bytes of the head chunk already written (a write may take part of it). */
  #offset = 0;
  #writing = false;
  #failed: Error | undefined;
  #flushWaiters: ((error?: Error) => void)[] = [];

  constructor(options: FdWriterOptions) {
    this.#fd = options.fd;
    this.#maxPendingBytes = options.maxPendingBytes;
    this.#write = options.write ?? fsWrite;
    this.#clock = options.clock ?? systemClock;
    this.#onError = options.onError;
  }

  /**
   * Queues `chunk`; the writer owns it until it calls `done`, once the chunk is written or
   * dropped: at once when too much is pending or writing has failed, later when writing fails
   * with the chunk still queued. Returns false when the chunk was dropped at once.
   */
  write(chunk: Buffer, done?: ChunkDone): boolean {
    if (chunk.length === 0) {
      done?.(chunk, false);
      return true;
    }
    if (this.#failed || this.#pendingBytes + chunk.length > this.#maxPendingBytes) {
      done?.(chunk, true);
      return false;
    }
    this.#queue.push({ chunk, done });
    this.#pendingBytes += chunk.length;
    this.#pump();
    return true;
  }

  /** Calls back once everything queued so far is written (or writing failed). */
  flush(callback: (error?: Error) => unknown): void {
    if (this.#queue.length === 0) {
      const failed = this.#failed;
      queueMicrotask(() => callback(failed));
      return;
    }
    this.#flushWaiters.push(callback);
  }

  #pump(): void {
    if (this.#writing) return;
    const head = this.#queue[0];
    if (!head) return;
    this.#writing = true;
    const { chunk } = head;
    this.#write(this.#fd, chunk, this.#offset, chunk.length - this.#offset, this.#afterWrite);
  }

  readonly #afterWrite = (error: NodeJS.ErrnoException | null, written: number): void => {
    this.#writing = false;
    if (error) {
      if (error.code === 'EAGAIN') {
        this.#writing = true;
        this.#clock.setTimer(EAGAIN_RETRY_MS, () => {
          this.#writing = false;
          this.#pump();
        });
        return;
      }
      this.#fail(error);
      return;
    }
    this.#offset += written;
    const head = this.#queue[0]!;
    if (this.#offset < head.chunk.length) {
      this.#pump();
      return;
    }
    this.#queue.shift();
    this.#offset = 0;
    this.#pendingBytes -= head.chunk.length;
    head.done?.(head.chunk, false);
    if (this.#queue.length === 0) this.#settleFlushes(undefined);
    else this.#pump();
  };

  /** Writing stopped for good: what is queued is dropped, waiters hear why. */
  #fail(error: Error): void {
    this.#failed = error;
    for (const { chunk, done } of this.#queue.splice(0)) done?.(chunk, true);
    this.#pendingBytes = 0;
    this.#offset = 0;
    this.#onError?.(error);
    this.#settleFlushes(error);
  }

  #settleFlushes(error: Error | undefined): void {
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const waiter of waiters) waiter(error);
  }
}
