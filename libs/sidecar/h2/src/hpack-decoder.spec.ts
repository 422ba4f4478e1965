import { describe, expect, it } from 'vitest';
import { HpackDecodeError, HpackDecoder } from './hpack-decoder.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decode(decoder: HpackDecoder, block: string): string[] {
  const out: string[] = [];
  decoder.decode(hex(block), out);
  return out;
}

describe('HpackDecoder', () => {
  it('decodes the RFC 7541 C.3 requests (plain literals) and tracks the dynamic table', () => {
    const d = new HpackDecoder(4096);
    expect(decode(d, '828684410f7777772e6578616d706c652e636f6d')).toEqual([
      ':method',
      'GET',
      ':scheme',
      'http',
      ':path',
      '/',
      ':authority',
      'www.example.com',
    ]);
    expect(d.tableSize).toBe(57);
    expect(decode(d, '828684be58086e6f2d6361636865')).toEqual([
      ':method',
      'GET',
      ':scheme',
      'http',
      ':path',
      '/',
      ':authority',
      'www.example.com',
      'cache-control',
      'no-cache',
    ]);
    expect(d.tableSize).toBe(110);
    expect(decode(d, '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565')).toEqual([
      ':method',
      'GET',
      ':scheme',
      'https',
      ':path',
      '/index.html',
      ':authority',
      'www.example.com',
      'custom-key',
      'custom-value',
    ]);
    expect(d.tableSize).toBe(164);
  });

  it('decodes the RFC 7541 C.6 responses (Huffman) with evictions in a 256-byte table', () => {
    const d = new HpackDecoder(256);
    expect(
      decode(
        d,
        `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
      ),
    ).toEqual([
      ':status',
      '302',
      'cache-control',
      'private',
      'date',
      'Mon, 21 Oct 2013 20:13:21 GMT',
      'location',
      'https://www.example.com',
    ]);
    expect(d.tableSize).toBe(222);
    expect(decode(d, '4883 640e ffc1 c0bf')).toEqual([
      ':status',
      '307',
      'cache-control',
      'private',
      'date',
      'Mon, 21 Oct 2013 20:13:21 GMT',
      'location',
      'https://www.example.com',
    ]);
    expect(d.tableSize).toBe(222);
    expect(
      decode(
        d,
        `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
      ),
    ).toEqual([
      ':status',
      '200',
      'cache-control',
      'private',
      'date',
      'Mon, 21 Oct 2013 20:13:22 GMT',
      'location',
      'https://www.example.com',
      'content-encoding',
      'gzip',
      'set-cookie',
      'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
    ]);
    expect(d.tableSize).toBe(215);
  });

  it('returns the header list size (name + value + 32 per field)', () => {
    const d = new HpackDecoder(4096);
    expect(d.decode(hex('8286'), [])).toBe(7 + 3 + 32 + 7 + 4 + 32);
  });

  it('keeps duplicate names and their order', () => {
    const d = new HpackDecoder(4096);
    // literal without indexing, new name "a" = "1", then "a" = "2"
    expect(decode(d, '0001610131' + '0001610132')).toEqual(['a', '1', 'a', '2']);
  });

  it('applies a table size update at the start of a block', () => {
    const d = new HpackDecoder(4096);
    decode(d, '4001610131');
    expect(d.tableSize).toBe(34);
    expect(decode(d, '20' + '82')).toEqual([':method', 'GET']);
    expect(d.tableSize).toBe(0);
  });

  it('rejects a table size update after a field', () => {
    expect(() => decode(new HpackDecoder(4096), '8220')).toThrow(HpackDecodeError);
  });

  it('rejects a table size update above the advertised maximum', () => {
    expect(() => decode(new HpackDecoder(256), '3fe201')).toThrow(HpackDecodeError);
  });

  it('rejects index 0 and an index past the table', () => {
    expect(() => decode(new HpackDecoder(4096), '80')).toThrow(HpackDecodeError);
    expect(() => decode(new HpackDecoder(4096), 'be')).toThrow(HpackDecodeError);
  });

  it('rejects a truncated string literal', () => {
    expect(() => decode(new HpackDecoder(4096), '000361626300')).not.toThrow();
    expect(() => decode(new HpackDecoder(4096), '00036162')).toThrow(HpackDecodeError);
  });

  it('rejects Huffman data padded with more than 7 bits', () => {
    // name "a" raw; value Huffman 0x1fff = "a" (00011) followed by 11 one-bits of padding
    expect(() => decode(new HpackDecoder(4096), '000161821fff')).toThrow(HpackDecodeError);
  });

  it('stays usable after an error for a new block', () => {
    const d = new HpackDecoder(4096);
    expect(() => decode(d, '00036162')).toThrow(HpackDecodeError);
    expect(decode(d, '82')).toEqual([':method', 'GET']);
  });
});
