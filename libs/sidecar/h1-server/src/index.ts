// @trellis/sidecar-h1-server: a lean HTTP/1.1 downstream (server-side) connection handler that
// produces the proxy's DownstreamExchange, with a strict incremental request parser.
export { H1Server } from './server.js';
export type { H1Exchange } from './h1-exchange.js';
export { RequestParser, DEFAULT_REQUEST_LIMITS } from './request-parser.js';
export type { RequestBodySink, RequestParserLimits } from './request-parser.js';
export type { RequestHead } from './request-head.js';
export { H1ServerError, H1ServerErrorCodes, isH1ServerError } from './errors.js';
export type { H1ServerErrorCode, RefusalStatus } from './errors.js';
export type { H1ServerOptions, H2cUpgradeHook } from './types.js';
export { isSentInterimStatus } from './exchange.js';
export type {
  BodyHandlers,
  DownstreamExchange,
  FlatHeaders,
  RequestBodyReader,
  ResponseWriter,
} from './exchange.js';
