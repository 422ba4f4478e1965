// A fast, allocation-free 32-bit string hash for consistent hashing: MurmurHash3's block mix
// applied per UTF-16 code unit, then its fmix32 finalizer for avalanche. Not byte-compatible with
// canonical MurmurHash3 (which hashes UTF-8 bytes in 4-byte blocks); it only has to agree with
// itself, so every Trellis sidecar maps a key to the same endpoint.

/** Unsigned 32-bit hash of `text` under `seed`. */
export function hash32(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= text.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
