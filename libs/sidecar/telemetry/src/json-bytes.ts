// Writes JSON text straight into a byte buffer, piece by piece, for the access log's hot path:
// building the line as a string made a rope of some thirty pieces per request that the buffer
// write then flattened and encoded again (about 2 KiB of garbage per request). Printable ASCII
// is copied byte by byte; any other string goes through JSON.stringify, so the output is always
// exactly what JSON.stringify writes.

/** Most bytes JSON.stringify can write for one UTF-16 unit (`\u001f`). */
export const MAX_JSON_BYTES_PER_UNIT = 6;

export class JsonBytes {
  buffer: Buffer;
  offset: number;

  constructor(buffer: Buffer, offset: number) {
    this.buffer = buffer;
    this.offset = offset;
  }

  /**
   * Text known to need no escaping (keys, punctuation, numbers, ASCII literals), as is. The
   * caller has made room for it.
   */
  raw(text: string): void {
    const buffer = this.buffer;
    let offset = this.offset;
    for (let i = 0; i < text.length; i++) buffer[offset++] = text.charCodeAt(i);
    this.offset = offset;
  }

  /** Bytes known to be JSON already (a precomputed piece of a line), as they are. */
  bytes(bytes: Uint8Array): void {
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  /**
   * `value` as a JSON string literal; the caller has made room for
   * MAX_JSON_BYTES_PER_UNIT × length + 2 bytes.
   */
  string(value: string): void {
    const buffer = this.buffer;
    const start = this.offset;
    let offset = start;
    buffer[offset++] = 0x22; // "
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        // Rare: escapes or non-ASCII. Rewritten whole by JSON.stringify (UTF-8, escapes as it
        // writes them; lone surrogates come out escaped, so the bytes stay valid UTF-8).
        this.offset = start + buffer.write(JSON.stringify(value), start, 'utf8');
        return;
      }
      buffer[offset++] = c;
    }
    buffer[offset++] = 0x22;
    this.offset = offset;
  }

  /** `value` as a JSON string, or null when undefined. */
  optionalString(value: string | undefined): void {
    if (value === undefined) this.raw('null');
    else this.string(value);
  }

  /** A number as JSON.stringify writes it: NaN and infinities become null. */
  number(value: number): void {
    this.raw(Number.isFinite(value) ? String(value) : 'null');
  }

  boolean(value: boolean): void {
    this.raw(value ? 'true' : 'false');
  }
}
