// HPACK encoding (RFC 7541) written for the request path: static-table and dynamic-table indexing,
// raw (non-Huffman) string literals written straight into the caller's output buffer. Measured
// faster than hpack.js's compressor (bench/hpack.bench.ts), which routes every block through a
// Duplex stream and a bit-level writer; Huffman coding is skipped on purpose because it costs CPU
// to save bytes on links (loopback, pod network) where bytes are cheap.
import { hpackJs } from './hpack-js.js';

const STATIC_TABLE_LENGTH = 61;
const ENTRY_OVERHEAD = 32;

const enum Policy {
  /** Literal with incremental indexing: later requests refer to it by index. */
  Index,
  /** Literal without indexing: values (nearly) unique per request would only churn the table. */
  NoIndex,
  /** Never indexed: credentials no intermediary may put in a table (RFC 7541 §7.1). */
  Never,
}

/** What the encoder knows about a header name before looking at the dynamic table. */
interface KnownName {
  /** Static table index of the name, 0 if it has none. */
  readonly staticIndex: number;
  /** Static table indexes of (name, value) pairs. */
  readonly staticValues: Map<string, number> | null;
  readonly policy: Policy;
}

/**
 * Dynamic table entries of one name: value → insertion sequence, the newest sequence, and the
 * last value found (a repeated value, the common case, then costs a string compare, no lookup).
 */
interface DynamicName {
  readonly values: Map<string, number>;
  latest: number;
  hitValue: string;
  hitSeq: number;
}

const NO_INDEX_NAMES = [
  ':path',
  'content-length',
  'date',
  'etag',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'range',
  'content-range',
  'location',
  'age',
  'grpc-timeout',
  'grpc-trace-bin',
  'x-request-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'b3',
  'traceparent',
  'tracestate',
];
const NEVER_INDEX_NAMES = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

// Built once from hpack.js's copy of the RFC 7541 Appendix A table: one Map lookup per field tells
// the static index, static pairs and indexing policy. Maps, not plain objects, so names like
// "constructor" cannot hit Object.prototype.
const KNOWN_NAMES = new Map<string, KnownName>();
{
  const policyOf = (name: string): Policy =>
    NEVER_INDEX_NAMES.includes(name)
      ? Policy.Never
      : NO_INDEX_NAMES.includes(name)
        ? Policy.NoIndex
        : Policy.Index;
  hpackJs['static-table'].table.forEach((entry, i) => {
    let known = KNOWN_NAMES.get(entry.name);
    if (known === undefined) {
      known = { staticIndex: i + 1, staticValues: new Map(), policy: policyOf(entry.name) };
      KNOWN_NAMES.set(entry.name, known);
    }
    if (!known.staticValues!.has(entry.value)) known.staticValues!.set(entry.value, i + 1);
  });
  for (const name of [...NO_INDEX_NAMES, ...NEVER_INDEX_NAMES]) {
    if (!KNOWN_NAMES.has(name)) {
      KNOWN_NAMES.set(name, { staticIndex: 0, staticValues: null, policy: policyOf(name) });
    }
  }
}

export class HpackEncoder {
  /** Limit we may use: min(peer's SETTINGS_HEADER_TABLE_SIZE, our own cap). */
  #maxSize: number;
  readonly #cap: number;
  #size = 0;
  // Dynamic table, oldest first. Entry with insertion sequence `s` sits at
  // names[s - (#inserted - names.length)] and has HPACK index 62 + (#inserted - 1 - s).
  readonly #names: string[] = [];
  readonly #values: string[] = [];
  #inserted = 0;
  readonly #dynamic = new Map<string, DynamicName>();
  // Size updates owed to the peer at the start of the next block (RFC 7541 §4.2): the smallest
  // size reached since the last block, then the final one.
  #updatePending = false;
  #updateMin = 0;

  /** `cap` bounds our table even if the peer allows more (memory per connection). */
  constructor(cap = 4_096) {
    this.#cap = cap;
    this.#maxSize = Math.min(cap, 4_096);
    // The peer's decoder starts at 4096: using less must be announced, or evictions diverge.
    if (this.#maxSize < 4_096) {
      this.#updatePending = true;
      this.#updateMin = this.#maxSize;
    }
  }

  get tableSize(): number {
    return this.#size;
  }

  get maxTableSize(): number {
    return this.#maxSize;
  }

  /** Applies the peer's SETTINGS_HEADER_TABLE_SIZE; the change is signalled in the next block. */
  setPeerMaxTableSize(peerMax: number): void {
    const next = Math.min(peerMax, this.#cap);
    if (next === this.#maxSize) return;
    this.#updateMin = this.#updatePending ? Math.min(this.#updateMin, next) : next;
    this.#updatePending = true;
    this.#maxSize = next;
    this.#evictTo(next);
  }

  /** Upper bound of the bytes encode() writes for `fields` (flat name/value list). */
  static maxEncodedLength(fields: readonly string[]): number {
    let n = 12; // two size updates
    for (let i = 0; i < fields.length; i++) n += fields[i]!.length + 8;
    return n;
  }

  /**
   * Encodes a flat [name, value, …] list (already validated: lowercase names, latin1 values) into
   * `out` from `off`; `out` must hold maxEncodedLength(fields) bytes. Returns the end offset.
   */
  encode(fields: readonly string[], out: Buffer, off: number): number {
    if (this.#updatePending) {
      this.#updatePending = false;
      if (this.#updateMin < this.#maxSize) off = writeInt(out, off, 0x20, 5, this.#updateMin);
      off = writeInt(out, off, 0x20, 5, this.#maxSize);
    }
    for (let i = 0; i + 1 < fields.length; i += 2) {
      off = this.#encodeField(fields[i]!, fields[i + 1]!, out, off);
    }
    return off;
  }

  #encodeField(name: string, value: string, out: Buffer, off: number): number {
    const known = KNOWN_NAMES.get(name);
    if (known !== undefined && known.staticValues !== null) {
      const index = known.staticValues.get(value);
      if (index !== undefined) return writeInt(out, off, 0x80, 7, index);
    }
    const dynamic = this.#dynamic.get(name);
    let nameIndex = 0;
    if (dynamic !== undefined) {
      if (dynamic.hitValue === value && dynamic.hitSeq >= this.#inserted - this.#names.length) {
        return writeInt(out, off, 0x80, 7, this.#indexOf(dynamic.hitSeq));
      }
      const seq = dynamic.values.get(value);
      if (seq !== undefined) {
        dynamic.hitValue = value;
        dynamic.hitSeq = seq;
        return writeInt(out, off, 0x80, 7, this.#indexOf(seq));
      }
      nameIndex = this.#indexOf(dynamic.latest);
    }
    // A static name index is smaller than any dynamic one, so it wins.
    if (known !== undefined && known.staticIndex !== 0) nameIndex = known.staticIndex;
    const policy = known === undefined ? Policy.Index : known.policy;
    if (policy === Policy.Never) {
      off = writeInt(out, off, 0x10, 4, nameIndex);
    } else if (
      policy === Policy.Index &&
      (name.length + value.length + ENTRY_OVERHEAD) * 4 <= this.#maxSize * 3
    ) {
      off = writeInt(out, off, 0x40, 6, nameIndex);
      this.#add(name, value);
    } else {
      off = writeInt(out, off, 0x00, 4, nameIndex);
    }
    if (nameIndex === 0) off = writeString(out, off, name);
    return writeString(out, off, value);
  }

  #indexOf(seq: number): number {
    return STATIC_TABLE_LENGTH + this.#inserted - seq;
  }

  #add(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    this.#evictTo(this.#maxSize - entrySize);
    const seq = this.#inserted++;
    this.#names.push(name);
    this.#values.push(value);
    this.#size += entrySize;
    const dynamic = this.#dynamic.get(name);
    if (dynamic === undefined) {
      this.#dynamic.set(name, {
        values: new Map([[value, seq]]),
        latest: seq,
        hitValue: value,
        hitSeq: seq,
      });
    } else {
      dynamic.values.set(value, seq);
      dynamic.latest = seq;
    }
  }

  #evictTo(limit: number): void {
    while (this.#size > limit && this.#names.length > 0) {
      const seq = this.#inserted - this.#names.length;
      const name = this.#names.shift()!;
      const value = this.#values.shift()!;
      this.#size -= name.length + value.length + ENTRY_OVERHEAD;
      const dynamic = this.#dynamic.get(name)!;
      if (dynamic.values.get(value) === seq) dynamic.values.delete(value);
      // Oldest goes first, so if the newest entry of this name goes, all of them went.
      if (dynamic.latest === seq) this.#dynamic.delete(name);
    }
  }
}

/** HPACK integer (RFC 7541 §5.1) with `prefixBits` bits in a first byte carrying `flags`. */
function writeInt(
  out: Buffer,
  off: number,
  flags: number,
  prefixBits: number,
  value: number,
): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[off] = flags | value;
    return off + 1;
  }
  out[off++] = flags | max;
  let rest = value - max;
  while (rest >= 0x80) {
    out[off++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[off] = rest;
  return off + 1;
}

/** Raw string literal (H = 0): length then latin1 octets. */
function writeString(out: Buffer, off: number, s: string): number {
  const len = s.length;
  off = writeInt(out, off, 0x00, 7, len);
  if (len > 64) return off + out.write(s, off, len, 'latin1');
  for (let i = 0; i < len; i++) out[off + i] = s.charCodeAt(i);
  return off + len;
}
