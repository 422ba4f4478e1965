// Hand-made HTTP/2 frames for the malformed-input tests: a client that writes exact bytes
// (including ones a real client library refuses to send) and a reader for the frames the
// server answers with. HPACK here is literal fields only, no Huffman: enough to be valid.
import { rawExchange } from './clients.js';

export const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
} as const;

export const Flag = { END_STREAM: 0x1, END_HEADERS: 0x4 } as const;

export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  CANCEL: 0x8,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1), first byte's high bits `mask`. */
function hpackInt(value: number, prefixBits: number, mask: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([mask | value]);
  const bytes = [mask | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A header block of "literal without indexing, new name" fields, as given (no checks). */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(Buffer.from([0x00]), hpackInt(n.length, 7, 0), n, hpackInt(v.length, 7, 0), v);
  }
  return Buffer.concat(parts);
}

export function requestHeaders(
  streamId: number,
  fields: readonly (readonly [string, string])[],
  endStream: boolean,
): Buffer {
  return frame(
    FrameType.HEADERS,
    Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0),
    streamId,
    headerBlock(fields),
  );
}

export function rstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function windowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(increment);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export interface ParsedFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

export function parseFrames(data: Buffer): ParsedFrame[] {
  const frames: ParsedFrame[] = [];
  let offset = 0;
  while (offset + 9 <= data.length) {
    const length = data.readUIntBE(offset, 3);
    if (offset + 9 + length > data.length) break;
    frames.push({
      type: data[offset + 3] as number,
      flags: data[offset + 4] as number,
      streamId: data.readUInt32BE(offset + 5) & 0x7fffffff,
      payload: data.subarray(offset + 9, offset + 9 + length),
    });
    offset += 9 + length;
  }
  return frames;
}

export interface H2RawResult {
  readonly frames: ParsedFrame[];
  /** Error code of the server's GOAWAY, if it sent one. */
  readonly goaway: number | undefined;
  /** RST_STREAM error codes by stream id. */
  readonly resets: Map<number, number>;
  /** `:status`-bearing HEADERS frames seen, by stream id (any server response). */
  readonly responded: Set<number>;
  readonly closedByServer: boolean;
}

/**
 * Opens a connection, sends the preface, an empty SETTINGS and `frames` in one write, then
 * `later` (if any) `gapMs` after, and reads the answer.
 */
export async function h2Raw(
  port: number,
  frames: readonly Buffer[],
  options: { idleMs?: number; later?: readonly Buffer[]; gapMs?: number } = {},
): Promise<H2RawResult> {
  const first = Buffer.concat([
    Buffer.from(PREFACE, 'latin1'),
    frame(FrameType.SETTINGS, 0, 0),
    ...frames,
  ]);
  const raw = await rawExchange(
    port,
    options.later ? [first, Buffer.concat(options.later)] : [first],
    { idleMs: options.idleMs, gapMs: options.gapMs ?? 200 },
  );
  const parsed = parseFrames(Buffer.from(raw.text, 'latin1'));
  let goaway: number | undefined;
  const resets = new Map<number, number>();
  const responded = new Set<number>();
  for (const f of parsed) {
    if (f.type === FrameType.GOAWAY) goaway = f.payload.readUInt32BE(4);
    if (f.type === FrameType.RST_STREAM) resets.set(f.streamId, f.payload.readUInt32BE(0));
    if (f.type === FrameType.HEADERS) responded.add(f.streamId);
  }
  return { frames: parsed, goaway, resets, responded, closedByServer: raw.closedByServer };
}
