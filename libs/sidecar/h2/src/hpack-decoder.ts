// HPACK decoding (RFC 7541) on hpack.js's bit reader, Huffman tables and header table. The
// package's stream wrapper (Decompressor) is bypassed: it costs a Duplex stream and an object per
// field, where a proxy wants a flat [name, value, …] list filled in one synchronous call.
import { hpackJs } from './hpack-js.js';
import type { HpackJsDecoder, HpackJsTable } from './hpack-js.js';

/** Thrown for any malformed header block; the connection must end with COMPRESSION_ERROR. */
export class HpackDecodeError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'HpackDecodeError';
  }
}

export class HpackDecoder {
  #reader: HpackJsDecoder = hpackJs.decoder.create();
  readonly #table: HpackJsTable;

  /** `maxTableSize` is the SETTINGS_HEADER_TABLE_SIZE we advertise (the peer may not exceed it). */
  constructor(maxTableSize: number) {
    this.#table = hpackJs.table.create({ maxSize: maxTableSize });
  }

  /** Current dynamic table size in octets (RFC 7541 §4.1 accounting). */
  get tableSize(): number {
    return this.#table.size;
  }

  /**
   * Decodes one complete header block, appending name/value pairs to `out` in wire order, and
   * returns the header list size (sum of name + value + 32 per field). Throws HpackDecodeError.
   */
  decode(block: Buffer, out: string[]): number {
    const reader = this.#reader;
    const table = this.#table;
    let listSize = 0;
    let first = true;
    reader.push(block);
    try {
      while (!reader.isEmpty()) {
        if (reader.decodeBit() === 1) {
          const entry = table.lookup(reader.decodeInt());
          out.push(entry.name, entry.value);
          listSize += entry.name.length + entry.value.length + 32;
          first = false;
          continue;
        }
        const incremental = reader.decodeBit() === 1;
        if (!incremental) {
          if (reader.decodeBit() === 1) {
            // Dynamic table size update: only allowed before the first field of a block.
            if (!first) throw new HpackDecodeError('table size update after a header field');
            table.updateSize(reader.decodeInt());
            continue;
          }
          reader.decodeBit(); // never-indexed flag: nothing to do for a client that only reads
        }
        first = false;
        const index = reader.decodeInt();
        const name = index === 0 ? latin1(reader.decodeStr()) : table.lookup(index).name;
        const value = latin1(reader.decodeStr());
        if (incremental) table.add(name, value, name.length, value.length);
        out.push(name, value);
        listSize += name.length + value.length + 32;
      }
    } catch (err) {
      // The reader may hold a partial field; a fresh one keeps the object usable for tests, though
      // the connection is dead anyway (the dynamic table may be out of sync with the peer).
      this.#reader = hpackJs.decoder.create();
      if (err instanceof HpackDecodeError) throw err;
      throw new HpackDecodeError(`malformed header block: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return listSize;
  }
}

function latin1(octets: Buffer | number[]): string {
  if (Buffer.isBuffer(octets)) return octets.toString('latin1');
  if (octets.length <= 64) {
    let s = '';
    for (let i = 0; i < octets.length; i++) s += String.fromCharCode(octets[i]!);
    return s;
  }
  return Buffer.from(octets).toString('latin1');
}
