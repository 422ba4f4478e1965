// Options of the h2c server and the resolved configuration its sessions share.
import { systemClock } from '@trellis/time';
import type { Clock } from '@trellis/time';
import {
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_WINDOW_SIZE,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW_SIZE,
  MIN_MAX_FRAME_SIZE,
} from './constants.js';
import type { H2Error } from './errors.js';
import type { H2ServerStream } from './server-stream.js';

export interface H2ServerOptions {
  /** Receives each request stream; its body starts paused (resume() to read it). */
  readonly onStream: (stream: H2ServerStream) => void;
  /**
   * A client broke the protocol or hit a limit: `error.code` is TRL_H2_PROTOCOL_ERROR (connection
   * or stream error, malformed request) or TRL_H2_ABUSE; `error.h2Code` the code on the wire.
   */
  readonly onClientError?: (error: H2Error, remoteAddress: string) => void;
  /** SETTINGS_MAX_CONCURRENT_STREAMS; more open streams are refused (REFUSED_STREAM). Default 100. */
  readonly maxConcurrentStreams?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE, enforced: larger request heads get 431. Default 64 KiB. */
  readonly maxHeaderListSize?: number;
  /** Most regular fields in a request head or trailers; more get 431. Default 100. */
  readonly maxHeaderCount?: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: per-stream receive window. Default 1 MiB. */
  readonly initialWindowSize?: number;
  /** Connection receive window, opened by a WINDOW_UPDATE after our SETTINGS. Default 16 MiB. */
  readonly connectionWindowSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE we accept. Default 16384. */
  readonly maxFrameSize?: number;
  /** SETTINGS_HEADER_TABLE_SIZE for the client's encoder (our decoding table). Default 4096. */
  readonly headerTableSize?: number;
  /** Cap on our HPACK encoder's dynamic table (the client may allow more). Default 4096. */
  readonly encoderTableSize?: number;
  /** Response bytes a stream queues before write() returns false. Default 64 KiB. */
  readonly streamHighWaterMark?: number;
  /** A connection without open streams this long is closed (GOAWAY); 0 (default): never. */
  readonly idleTimeoutMs?: number;
  /**
   * Our SETTINGS not acknowledged within this closes the connection with GOAWAY SETTINGS_TIMEOUT
   * (RFC 9113 §6.5.3); 0: no bound. Default 10 s.
   */
  readonly settingsTimeoutMs?: number;
  /** Time source for the timeouts and the linger after close. Default systemClock. */
  readonly clock?: Clock;
}

export interface ServerConfig {
  readonly onStream: (stream: H2ServerStream) => void;
  readonly onClientError: ((error: H2Error, remoteAddress: string) => void) | undefined;
  readonly maxConcurrentStreams: number;
  readonly maxHeaderListSize: number;
  readonly maxHeaderCount: number;
  readonly initialWindowSize: number;
  readonly connectionWindowSize: number;
  readonly maxFrameSize: number;
  readonly headerTableSize: number;
  readonly encoderTableSize: number;
  readonly streamHighWaterMark: number;
  readonly idleTimeoutMs: number;
  readonly settingsTimeoutMs: number;
  readonly clock: Clock;
}

function checked(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`invalid h2 server option ${name}: ${value}`);
  }
  return value;
}

export function resolveServerConfig(options: H2ServerOptions): ServerConfig {
  return {
    onStream: options.onStream,
    onClientError: options.onClientError,
    maxConcurrentStreams: checked(
      'maxConcurrentStreams',
      options.maxConcurrentStreams ?? 100,
      1,
      MAX_WINDOW_SIZE,
    ),
    maxHeaderListSize: checked(
      'maxHeaderListSize',
      options.maxHeaderListSize ?? 64 << 10,
      1,
      MAX_WINDOW_SIZE,
    ),
    maxHeaderCount: checked('maxHeaderCount', options.maxHeaderCount ?? 100, 1, 1 << 20),
    initialWindowSize: checked(
      'initialWindowSize',
      options.initialWindowSize ?? 1 << 20,
      0,
      MAX_WINDOW_SIZE,
    ),
    connectionWindowSize: checked(
      'connectionWindowSize',
      options.connectionWindowSize ?? 16 << 20,
      DEFAULT_WINDOW_SIZE,
      MAX_WINDOW_SIZE,
    ),
    maxFrameSize: checked(
      'maxFrameSize',
      options.maxFrameSize ?? MIN_MAX_FRAME_SIZE,
      MIN_MAX_FRAME_SIZE,
      MAX_MAX_FRAME_SIZE,
    ),
    headerTableSize: checked(
      'headerTableSize',
      options.headerTableSize ?? DEFAULT_HEADER_TABLE_SIZE,
      0,
      MAX_WINDOW_SIZE,
    ),
    encoderTableSize: checked(
      'encoderTableSize',
      options.encoderTableSize ?? DEFAULT_HEADER_TABLE_SIZE,
      0,
      1 << 20,
    ),
    streamHighWaterMark: checked(
      'streamHighWaterMark',
      options.streamHighWaterMark ?? 64 << 10,
      1,
      MAX_WINDOW_SIZE,
    ),
    idleTimeoutMs: checked('idleTimeoutMs', options.idleTimeoutMs ?? 0, 0, 2 ** 31 - 1),
    settingsTimeoutMs: checked(
      'settingsTimeoutMs',
      options.settingsTimeoutMs ?? 10_000,
      0,
      2 ** 31 - 1,
    ),
    clock: options.clock ?? systemClock,
  };
}
