// The latency histogram scheme of telemetry summaries (docs/protocol.md, Telemetry): fixed
// log-linear buckets over whole microseconds, shared by the sidecar that fills them and the
// control plane that merges them, so a summary can carry sparse bucket counts and any number of
// them add up to one exact-to-the-bucket histogram.
//
// Values below 2^SUB_BUCKET_BITS µs get one bucket each (exact). Above, every power-of-two range
// [2^e, 2^(e+1)) is cut into 2^SUB_BUCKET_BITS equal buckets, so a bucket is at most 1/16 of its
// lower bound wide and its midpoint is within 1/32 of any value in it. Values at or above
// 2^31 µs (~36 minutes) share the last bucket.

export const LATENCY_SUB_BUCKET_BITS = 4;
const SUB = 1 << LATENCY_SUB_BUCKET_BITS;
const MAX_EXPONENT = 30;
/** Number of buckets: 16 exact ones, then 16 per power of two from 2^4 to 2^30. */
export const LATENCY_BUCKET_COUNT = SUB + (MAX_EXPONENT - LATENCY_SUB_BUCKET_BITS + 1) * SUB;
const MAX_US = 2 ** 31 - 1;

/** Bucket of a duration in milliseconds (fractions kept to the microsecond, negatives as 0). */
export function latencyBucketOf(durationMs: number): number {
  // Clamped to 2^31 - 1 first: Math.clz32 and >>> work on 32-bit integers.
  const us = durationMs > 0 ? Math.min(Math.floor(durationMs * 1000), MAX_US) : 0;
  if (us < SUB) return us;
  const exponent = 31 - Math.clz32(us);
  const shift = exponent - LATENCY_SUB_BUCKET_BITS;
  return (shift + 1) * SUB + ((us >>> shift) - SUB);
}

/** Lower bound of a bucket, in µs. */
function bucketLowerUs(index: number): number {
  if (index < SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  return ((index % SUB) + SUB) * 2 ** shift;
}

/** The value a bucket stands for, in whole µs: its only value, or its midpoint. */
export function latencyBucketValueUs(index: number): number {
  if (index < 2 * SUB) return index < SUB ? index : bucketLowerUs(index);
  const width = 2 ** (Math.floor(index / SUB) - 1);
  return bucketLowerUs(index) + width / 2;
}

/**
 * The nearest-rank `q`-quantile (0 < q ≤ 1) of a histogram, in ms: the value of the bucket that
 * holds the ⌈q·total⌉-th smallest observation. Within 1/32 (+1 µs of truncation) of the exact
 * nearest-rank quantile of the observed durations; 0 for an empty histogram.
 */
export function latencyQuantileMs(counts: ArrayLike<number>, total: number, q: number): number {
  if (total <= 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] as number;
    if (seen >= rank) return latencyBucketValueUs(i) / 1000;
  }
  return latencyBucketValueUs(counts.length - 1) / 1000;
}
