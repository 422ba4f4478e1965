// Feeds the client's request body to upstream attempts. The first attempt starts the flow;
// chunks are kept in a bounded replay buffer so a retry can send them again and then continue
// with the chunks still arriving. Past the bound nothing is kept and retries are refused.
import { ReplayBuffer } from '@trellis/sidecar-resilience';
import type { RequestBodyReader } from './exchange.js';
import type { FlatHeaders } from './flat-headers.js';
import type { UpstreamCall } from './upstream.js';

export class RequestBodyFeed {
  readonly #reader: RequestBodyReader;
  readonly #buffer: ReplayBuffer;
  #started = false;
  #ended = false;
  #trailers: FlatHeaders | undefined;
  #failed: Error | undefined;
  #call: UpstreamCall | undefined;
  #bytes = 0;

  constructor(reader: RequestBodyReader, replayLimitBytes: number) {
    this.#reader = reader;
    this.#buffer = new ReplayBuffer(replayLimitBytes);
  }

  /** The replay buffer, for the retry policy's "is the body replayable" check. */
  get buffer(): ReplayBuffer {
    return this.#buffer;
  }

  /** Whether another attempt could be sent the whole body. */
  get replayable(): boolean {
    return this.#buffer.replayable;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The client's body broke (reset, aborted): the request cannot complete. */
  get failed(): Error | undefined {
    return this.#failed;
  }

  /** Sends the body to `call`: replayed chunks first, then live ones. */
  attach(call: UpstreamCall): void {
    this.#call = call;
    if (this.#started) {
      for (const chunk of this.#buffer.replay() ?? []) call.write(chunk as Buffer);
      if (this.#ended) call.end(this.#trailers);
      else this.#reader.resume();
      return;
    }
    this.#started = true;
    this.#reader.start({
      onData: (chunk) => {
        this.#bytes += chunk.length;
        this.#buffer.push(chunk);
        const current = this.#call;
        if (current && !current.write(chunk)) {
          this.#reader.pause();
          current.onDrain(() => {
            if (this.#call === current) this.#reader.resume();
          });
        }
      },
      onEnd: (trailers) => {
        this.#ended = true;
        this.#trailers = trailers;
        this.#call?.end(trailers);
      },
      onError: (error) => {
        this.#failed = error;
        this.#call?.abort();
      },
    });
  }

  /** The current attempt failed: stop sending to it. The client's body keeps being buffered. */
  detach(): void {
    this.#call = undefined;
  }

  /** The request is finished: release the buffered chunks. */
  release(): void {
    this.#call = undefined;
    this.#buffer.release();
  }
}
