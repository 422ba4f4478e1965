// Random W3C trace and span ids for requests that start a trace without recording it: the same
// scheme as the OpenTelemetry SDK's RandomIdGenerator, without loading the SDK (only an OTLP
// exporter needs it, see otlp-export.ts).

/** One buffer for every id: they are produced synchronously and copied out as hex at once. */
const SHARED = Buffer.alloc(16);

/**
 * `bytes` random bytes as lowercase hex, never all zero (W3C trace context forbids an all-zero
 * id: the last byte is then 1). `random` is uniform in [0, 1).
 */
export function randomHexId(bytes: 8 | 16, random: () => number = Math.random): string {
  for (let offset = 0; offset < bytes; offset += 4) {
    // >>> 0 keeps the draw within 0..2^32-1, which writeUInt32BE requires.
    SHARED.writeUInt32BE((random() * 2 ** 32) >>> 0, offset);
  }
  let zero = true;
  for (let i = 0; i < bytes && zero; i++) zero = SHARED[i] === 0;
  if (zero) SHARED[bytes - 1] = 1;
  return SHARED.toString('hex', 0, bytes);
}
