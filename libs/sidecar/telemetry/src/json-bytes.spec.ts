// JsonBytes must write exactly the UTF-8 of JSON.stringify for any value, escapes and
// non-ASCII text included, and leave the bytes around what it writes untouched.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonBytes, MAX_JSON_BYTES_PER_UNIT } from './json-bytes.js';

/** Writes with `write` after a marker byte and returns what landed between it and the offset. */
function written(units: number, write: (out: JsonBytes) => void): string {
  const buffer = Buffer.alloc(1 + MAX_JSON_BYTES_PER_UNIT * units + 32, 0xee);
  const out = new JsonBytes(buffer, 1);
  write(out);
  expect(buffer[0]).toBe(0xee);
  expect(buffer.subarray(out.offset).every((byte) => byte === 0xee)).toBe(true);
  return buffer.toString('utf8', 1, out.offset);
}

describe('JsonBytes', () => {
  it('writes strings exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
        (value) => {
          expect(written(value.length + 2, (out) => out.string(value))).toBe(JSON.stringify(value));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('escapes quotes, backslashes and control characters, and keeps lone surrogates valid', () => {
    for (const value of ['a"b', 'c\\d', 'tab\there', 'nl\n', '\u007f', 'é', '\ud800x'])
      expect(written(value.length + 2, (out) => out.string(value))).toBe(JSON.stringify(value));
  });

  it('writes numbers, booleans, null and raw text as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer()), (value) => {
        expect(written(30, (out) => out.number(value))).toBe(JSON.stringify(value));
      }),
    );
    expect(written(8, (out) => out.boolean(true))).toBe('true');
    expect(written(8, (out) => out.boolean(false))).toBe('false');
    expect(written(8, (out) => out.optionalString(undefined))).toBe('null');
    expect(written(8, (out) => out.optionalString('x'))).toBe('"x"');
    expect(written(8, (out) => out.raw('{"a":'))).toBe('{"a":');
    expect(written(8, (out) => out.bytes(Buffer.from('[1,2]')))).toBe('[1,2]');
  });
});
