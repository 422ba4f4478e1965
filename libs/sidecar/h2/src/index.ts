// @trellis/sidecar-h2: lean HTTP/2 cleartext for the sidecar, both sides of the proxy. The client
// (upstream): sessions, a per-destination pool. The server (downstream): prior-knowledge and
// `Upgrade: h2c` connections handed over by the listener, request streams as plain handler
// objects. Shared: typed errors, the frame codec and writer, HPACK, header validation.
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
export { H2Server } from './server.js';
export type { H2ServerOptions } from './server-config.js';
export type { H2ServerStream, H2ServerStreamHandler } from './server-stream.js';
export { isH2cUpgrade } from './upgrade.js';
export type { H2cUpgradeRequest } from './upgrade.js';
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
