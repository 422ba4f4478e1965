// x-request-id values: random (version 4) UUIDs, as crypto.randomUUID makes them, from a pool of
// random bytes refilled 256 ids at a time. randomUUID assembled its text from some twenty string
// pieces, about 0.6 KiB of garbage per request; here the 36 characters are written into a
// scratch buffer and read out as one string.
import { randomFillSync } from 'node:crypto';

const IDS_PER_FILL = 256;
const pool = Buffer.alloc(16 * IDS_PER_FILL);
let next = IDS_PER_FILL;
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** A new random UUID (RFC 9562 version 4) in lower-case hex, as crypto.randomUUID writes it. */
export function newRequestId(): string {
  if (next === IDS_PER_FILL) {
    randomFillSync(pool);
    next = 0;
  }
  const start = 16 * next++;
  // Version 4 in the high nibble of byte 6, variant 10 in the high bits of byte 8.
  pool[start + 6] = (pool[start + 6]! & 0x0f) | 0x40;
  pool[start + 8] = (pool[start + 8]! & 0x3f) | 0x80;
  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = 0x2d; // -
    const byte = pool[start + i]!;
    text[at++] = HEX[byte >> 4]!;
    text[at++] = HEX[byte & 0x0f]!;
  }
  return text.toString('latin1', 0, 36);
}
