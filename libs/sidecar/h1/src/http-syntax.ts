// RFC 9110/9112 character classes as byte tables, shared by the response parser (bytes) and the
// request serialiser (latin1 strings), plus the comma-list readers for Connection and
// Transfer-Encoding. Tables keep validation to one array load per byte.

function table(accept: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accept(b) ? 1 : 0;
  return t;
}

const TCHAR_EXTRA = "!#$%&'*+-.^_`|~";

/** tchar: the bytes of a token (field names, methods, codings). */
export const TOKEN = table(
  (b) =>
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    TCHAR_EXTRA.includes(String.fromCharCode(b)),
);

/** field-vchar / SP / HTAB: the bytes allowed inside a field value or a reason phrase. */
export const FIELD_VALUE = table((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f));

/** request-target bytes as Node's own client accepts them: no controls, no space. */
export const TARGET = table((b) => b > 0x20 && b !== 0x7f);

/** Hex digit value, or -1. */
export const HEX = new Int8Array(256).fill(-1);
for (let b = 0; b < 256; b++) {
  if (b >= 0x30 && b <= 0x39) HEX[b] = b - 0x30;
  else if (b >= 0x41 && b <= 0x46) HEX[b] = b - 0x41 + 10;
  else if (b >= 0x61 && b <= 0x66) HEX[b] = b - 0x61 + 10;
}

/** True when every char of `s` is in `allowed` (chars above 0xff never are). */
export function stringMatches(s: string, allowed: Uint8Array): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || allowed[c] !== 1) return false;
  }
  return true;
}

/** A field value may be empty; it may not contain CR, LF, NUL or other controls. */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE[c] !== 1) return false;
  }
  return true;
}

/**
 * `s.toLowerCase() === lower` for a lower-case ASCII literal and a string of Latin-1 chars (no
 * Latin-1 letter lower-cases into ASCII), without the copy toLowerCase makes even of a string
 * already in lower case.
 */
export function lowerCaseEquals(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a ? c + 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

export const CONN_CLOSE = 1;
export const CONN_KEEP_ALIVE = 2;
export const CONN_UPGRADE = 4;

/** Reads the Connection options we act on (close, keep-alive, upgrade) as a bit set. */
export function connectionFlags(value: string): number {
  // Fast path for the usual single option.
  if (lowerCaseEquals(value, 'keep-alive')) return CONN_KEEP_ALIVE;
  if (lowerCaseEquals(value, 'close')) return CONN_CLOSE;
  const lower = value.toLowerCase();
  if (lower === 'keep-alive') return CONN_KEEP_ALIVE;
  if (lower === 'close') return CONN_CLOSE;
  let flags = 0;
  for (const raw of lower.split(',')) {
    const token = raw.trim();
    if (token === 'close') flags |= CONN_CLOSE;
    else if (token === 'keep-alive') flags |= CONN_KEEP_ALIVE;
    else if (token === 'upgrade') flags |= CONN_UPGRADE;
  }
  return flags;
}

/** Transfer-Encoding list elements, lower-cased, empty elements dropped (RFC 9110 §5.6.1). */
export function transferCodings(value: string, into: string[]): void {
  if (value === 'chunked') {
    into.push(value);
    return;
  }
  for (const raw of value.split(',')) {
    const coding = raw.trim().toLowerCase();
    if (coding.length > 0) into.push(coding);
  }
}
