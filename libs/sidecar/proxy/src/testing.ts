// Test doubles for the proxy's layers: a scripted upstream connector and an in-memory
// downstream exchange, so the stack runs on a FakeClock without sockets.
import type {
  DownstreamExchange,
  RequestBodyReader,
  ResponseWriter,
  BodyHandlers,
} from './exchange.js';
import type { FlatHeaders } from './flat-headers.js';
import { UpstreamError } from './upstream.js';
import type {
  UpstreamCall,
  UpstreamConnector,
  UpstreamHandler,
  UpstreamHead,
  UpstreamTarget,
} from './upstream.js';

export interface RecordedCall {
  readonly target: UpstreamTarget;
  readonly head: UpstreamHead;
  readonly handler: UpstreamHandler;
  readonly body: Buffer[];
  ended: boolean;
  aborted: boolean;
  /** Sends an interim 1xx response, as the upstream clients report one. */
  informational(status: number, headers: FlatHeaders): void;
  /** Answers with a complete response. */
  respond(status: number, headers?: FlatHeaders, body?: string, trailers?: FlatHeaders): void;
  fail(failure: UpstreamError['failure']): void;
}

/** An upstream that records every call; the test (or `script`) answers them. */
export class FakeConnector implements UpstreamConnector {
  readonly calls: RecordedCall[] = [];
  /** Called for each new call; answer synchronously or keep the call to answer later. */
  script: ((call: RecordedCall) => void) | undefined;

  request(target: UpstreamTarget, head: UpstreamHead, handler: UpstreamHandler): UpstreamCall {
    const call: RecordedCall = {
      target,
      head,
      handler,
      body: [],
      ended: !head.hasBody,
      aborted: false,
      informational(status, headers) {
        if (!call.aborted) handler.onInformational?.(status, headers);
      },
      respond(status, headers = [], body = '', trailers) {
        if (call.aborted) return;
        handler.onResponseHead(status, headers);
        if (body) handler.onData(Buffer.from(body));
        handler.onEnd(trailers);
      },
      fail(failure) {
        if (!call.aborted) handler.onError(new UpstreamError(failure, `scripted ${failure}`));
      },
    };
    this.calls.push(call);
    const upstreamCall: UpstreamCall = {
      write: (chunk) => (call.body.push(chunk), true),
      onDrain: () => undefined,
      end: () => {
        call.ended = true;
      },
      abort: () => {
        call.aborted = true;
      },
      pause: () => undefined,
      resume: () => undefined,
    };
    queueMicrotask(() => this.script?.(call));
    return upstreamCall;
  }

  retain(): void {}

  async close(): Promise<void> {}
}

export interface WrittenResponse {
  /** Interim responses, in the order given (the writer's own filtering not applied). */
  informational: { status: number; headers: FlatHeaders }[];
  status: number | undefined;
  headers: FlatHeaders;
  body: string;
  trailers: FlatHeaders | undefined;
  ended: boolean;
  aborted: boolean;
}

/** An in-memory exchange; `written` fills as the proxy answers, `finished` resolves at the end. */
export function fakeExchange(init: {
  method?: string;
  authority: string;
  target?: string;
  headers?: FlatHeaders;
  body?: string[];
}): {
  exchange: DownstreamExchange;
  written: WrittenResponse;
  finished: Promise<WrittenResponse>;
  abortClient(): void;
} {
  const written: WrittenResponse = {
    informational: [],
    status: undefined,
    headers: [],
    body: '',
    trailers: undefined,
    ended: false,
    aborted: false,
  };
  let finish: (w: WrittenResponse) => void = () => undefined;
  const finished = new Promise<WrittenResponse>((resolve) => (finish = resolve));
  const abortListeners: (() => void)[] = [];
  const response: ResponseWriter = {
    get headSent() {
      return written.status !== undefined;
    },
    get finished() {
      return written.ended || written.aborted;
    },
    informational(status, headers) {
      written.informational.push({ status, headers });
    },
    head(status, headers, endStream) {
      written.status = status;
      written.headers = headers;
      if (endStream) {
        written.ended = true;
        finish(written);
      }
    },
    write(chunk) {
      written.body += chunk.toString();
      return true;
    },
    onDrain: () => undefined,
    end(trailers) {
      written.trailers = trailers;
      written.ended = true;
      finish(written);
    },
    abort() {
      written.aborted = true;
      finish(written);
    },
  };
  const chunks = init.body;
  const body: RequestBodyReader = {
    start(handlers: BodyHandlers) {
      queueMicrotask(() => {
        for (const c of chunks ?? []) handlers.onData(Buffer.from(c));
        handlers.onEnd(undefined);
      });
    },
    pause: () => undefined,
    resume: () => undefined,
  };
  const exchange: DownstreamExchange = {
    protocol: 'http/1.1',
    method: init.method ?? 'GET',
    authority: init.authority,
    target: init.target ?? '/',
    headers: init.headers ?? [],
    remoteAddress: '127.0.0.9',
    hasBody: chunks !== undefined,
    body,
    response,
    onAbort: (callback) => abortListeners.push(callback),
  };
  return {
    exchange,
    written,
    finished,
    abortClient() {
      for (const l of abortListeners) l();
    },
  };
}
