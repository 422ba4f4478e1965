// @trellis/sidecar-h2: a lean HTTP/2 cleartext (prior knowledge) upstream client for the sidecar:
// sessions, a per-destination pool, typed errors, and the frame codec.
export { connectH2c } from './connect.js';
export type { H2ConnectOptions } from './connect.js';
export { H2Session } from './h2-session.js';
export type {
  H2RequestOptions,
  H2SessionEvents,
  H2SessionOptions,
  H2Settings,
} from './h2-session.js';
export type { H2ClientStream, H2StreamHandler } from './h2-client-stream.js';
export { H2Pool } from './h2-pool.js';
export type { H2Destination, H2DestinationStats, H2Origin, H2PoolOptions } from './h2-pool.js';
export { H2Error } from './errors.js';
export type { H2ErrorCodeName, H2ErrorOptions } from './errors.js';
export { getHeader } from './headers.js';
export type { HeaderInput } from './headers.js';
export { FrameFlag, FrameType, H2ErrorCode, SettingId } from './constants.js';
export {
  FrameParser,
  encodeFrame,
  encodeGoaway,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSettingsAck,
  encodeWindowUpdate,
} from './frame-codec.js';
export type { FrameSink } from './frame-codec.js';
