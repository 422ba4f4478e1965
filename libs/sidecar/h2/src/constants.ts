// HTTP/2 wire constants (RFC 9113): frame types, flags, error codes, setting ids and the limits
// the protocol fixes. Plain numeric constants so the hot path compares small integers.

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const FrameFlag = {
  /** DATA, HEADERS. */
  END_STREAM: 0x1,
  /** SETTINGS, PING. */
  ACK: 0x1,
  /** HEADERS, PUSH_PROMISE, CONTINUATION. */
  END_HEADERS: 0x4,
  /** DATA, HEADERS, PUSH_PROMISE. */
  PADDED: 0x8,
  /** HEADERS. */
  PRIORITY: 0x20,
} as const;

/** HTTP/2 error codes as carried by RST_STREAM and GOAWAY. */
export const H2ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

export const SettingId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** The 24-byte client connection preface (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FRAME_HEADER_SIZE = 9;
/** Flow-control window every connection and stream starts with. */
export const DEFAULT_WINDOW_SIZE = 65_535;
export const MAX_WINDOW_SIZE = 0x7fff_ffff;
export const MIN_MAX_FRAME_SIZE = 16_384;
export const MAX_MAX_FRAME_SIZE = 16_777_215;
export const DEFAULT_HEADER_TABLE_SIZE = 4_096;
export const MAX_STREAM_ID = 0x7fff_ffff;

/** Name of an HTTP/2 error code for messages, `0x…` for unknown codes. */
export function h2ErrorName(code: number): string {
  for (const [name, value] of Object.entries(H2ErrorCode)) {
    if (value === code) return name;
  }
  return `0x${code.toString(16)}`;
}
