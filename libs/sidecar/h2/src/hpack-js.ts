// Typed access to the `hpack.js` package (CommonJS, untyped). Only the primitives this lib uses are
// declared: the bit-level decoder, the header table and the RFC 7541 static table. Loading through
// createRequire keeps the types local, so consumers of this lib need no ambient declaration.
import { createRequire } from 'node:module';

/** A header table entry as hpack.js stores it (static and dynamic tables alike). */
export interface HpackJsEntry {
  readonly name: string;
  readonly value: string;
  readonly nameSize: number;
  readonly totalSize: number;
}

/** hpack.js bit reader over queued buffers; methods throw on truncated or invalid input. */
export interface HpackJsDecoder {
  push(chunk: Buffer): void;
  isEmpty(): boolean;
  decodeBit(): number;
  decodeInt(): number;
  /** Raw octets of a string literal: a Buffer (plain) or a number array (Huffman-decoded). */
  decodeStr(): Buffer | number[];
}

/** hpack.js combined static + dynamic table; lookup/updateSize throw on out-of-range input. */
export interface HpackJsTable {
  readonly size: number;
  readonly maxSize: number;
  lookup(index: number): HpackJsEntry;
  add(name: string, value: string, nameSize: number, valueSize: number): void;
  updateSize(size: number): void;
}

export interface HpackJs {
  readonly decoder: { create(): HpackJsDecoder };
  readonly table: { create(options: { maxSize: number }): HpackJsTable };
  readonly 'static-table': { readonly table: readonly HpackJsEntry[] };
}

const require = createRequire(import.meta.url);

export const hpackJs = require('hpack.js') as HpackJs;
