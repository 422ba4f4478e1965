// @trellis/sidecar-h1: a lean HTTP/1.1 keep-alive upstream client pool over raw sockets.
export { H1Pool } from './pool.js';
export { H1Error, H1ErrorCodes, isH1Error } from './errors.js';
export type { H1ErrorCode, H1ErrorDetails } from './errors.js';
export type {
  H1Dialer,
  H1PoolOptions,
  H1PoolStats,
  H1RequestInit,
  H1ResponseHandler,
  RequestHandle,
} from './types.js';
