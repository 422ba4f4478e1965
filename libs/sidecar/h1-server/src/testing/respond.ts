// Handler helpers for the integration tests: answer with a fixed text, or echo the request body.
import type { DownstreamExchange } from '../exchange.js';

/** Answers with `text` and a Content-Length, plus `headers`. */
export function respondText(
  exchange: DownstreamExchange,
  text: string,
  status = 200,
  headers: string[] = [],
): void {
  const body = Buffer.from(text);
  const response = exchange.response;
  response.head(status, ['content-length', String(body.length), ...headers], false, false);
  response.write(body);
  response.end();
}

/** Reads the whole body, then answers with it (chunked) and the trailers received, if any. */
export function echoBody(exchange: DownstreamExchange): void {
  const parts: Buffer[] = [];
  exchange.body.start({
    onData: (chunk) => parts.push(Buffer.from(chunk)),
    onEnd: (trailers) => {
      const response = exchange.response;
      response.head(200, ['x-trailer-count', String((trailers?.length ?? 0) / 2)], false, false);
      response.write(Buffer.concat(parts));
      response.end(trailers);
    },
    onError: () => undefined,
  });
}
