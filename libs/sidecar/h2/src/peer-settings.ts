// The peer's SETTINGS (RFC 9113 §6.5.2) as both ends of a connection track them: RFC defaults
// until the first SETTINGS frame, each frame validated and applied in wire order.
import {
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_WINDOW_SIZE,
  H2ErrorCode,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW_SIZE,
  MIN_MAX_FRAME_SIZE,
  SettingId,
} from './constants.js';

/** Why a SETTINGS payload was refused: the connection error to answer with. */
export interface SettingsViolation {
  readonly h2Code: number;
  readonly message: string;
}

export class PeerSettings {
  headerTableSize = DEFAULT_HEADER_TABLE_SIZE;
  /** Smallest HEADER_TABLE_SIZE seen in the last frame (the encoder must signal it), or -1. */
  lowestHeaderTableSize = -1;
  maxConcurrentStreams = Number.POSITIVE_INFINITY;
  initialWindowSize = DEFAULT_WINDOW_SIZE;
  maxFrameSize = MIN_MAX_FRAME_SIZE;
  /** The peer is a server, which may not enable push (RFC 9113 §6.5.2). */
  readonly #peerIsServer: boolean;

  constructor(peerIsServer: boolean) {
    this.#peerIsServer = peerIsServer;
  }

  /**
   * Applies a SETTINGS payload `buf[start, end)` (not an ACK). Returns the violation to close the
   * connection with, or null; the settings before a violation stay applied (the connection dies).
   */
  apply(buf: Buffer, start: number, end: number): SettingsViolation | null {
    if ((end - start) % 6 !== 0) {
      return { h2Code: H2ErrorCode.FRAME_SIZE_ERROR, message: 'SETTINGS size not a multiple of 6' };
    }
    this.lowestHeaderTableSize = -1;
    for (let off = start; off < end; off += 6) {
      const value = buf.readUInt32BE(off + 2);
      switch (buf.readUInt16BE(off)) {
        case SettingId.HEADER_TABLE_SIZE:
          this.headerTableSize = value;
          if (this.lowestHeaderTableSize < 0 || value < this.lowestHeaderTableSize) {
            this.lowestHeaderTableSize = value;
          }
          break;
        case SettingId.ENABLE_PUSH:
          if (value > 1 || (this.#peerIsServer && value !== 0)) {
            return { h2Code: H2ErrorCode.PROTOCOL_ERROR, message: `ENABLE_PUSH of ${value}` };
          }
          break;
        case SettingId.MAX_CONCURRENT_STREAMS:
          this.maxConcurrentStreams = value;
          break;
        case SettingId.INITIAL_WINDOW_SIZE:
          if (value > MAX_WINDOW_SIZE) {
            return {
              h2Code: H2ErrorCode.FLOW_CONTROL_ERROR,
              message: 'INITIAL_WINDOW_SIZE too large',
            };
          }
          this.initialWindowSize = value;
          break;
        case SettingId.MAX_FRAME_SIZE:
          if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) {
            return { h2Code: H2ErrorCode.PROTOCOL_ERROR, message: 'MAX_FRAME_SIZE out of range' };
          }
          this.maxFrameSize = value;
          break;
        default:
          break; // MAX_HEADER_LIST_SIZE is advisory; unknown settings are ignored
      }
    }
    return null;
  }
}
