import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HpackDecoder } from './hpack-decoder.js';
import { HpackEncoder } from './hpack-encoder.js';

function encode(encoder: HpackEncoder, fields: string[]): string {
  const out = Buffer.alloc(HpackEncoder.maxEncodedLength(fields));
  return out.subarray(0, encoder.encode(fields, out, 0)).toString('hex');
}

describe('HpackEncoder', () => {
  it('produces the RFC 7541 C.3 request blocks byte for byte', () => {
    const e = new HpackEncoder();
    const base = [':method', 'GET', ':scheme', 'http', ':path', '/'];
    expect(encode(e, [...base, ':authority', 'www.example.com'])).toBe(
      '828684410f7777772e6578616d706c652e636f6d',
    );
    expect(encode(e, [...base, ':authority', 'www.example.com', 'cache-control', 'no-cache'])).toBe(
      '828684be58086e6f2d6361636865',
    );
    expect(
      encode(e, [
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
      ]),
    ).toBe('828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565');
    expect(e.tableSize).toBe(164);
  });

  it('does not index per-request values such as :path', () => {
    const e = new HpackEncoder();
    expect(encode(e, [':path', '/a'])).toBe('0402' + '2f61');
    expect(e.tableSize).toBe(0);
  });

  it('encodes credentials as never-indexed literals', () => {
    const e = new HpackEncoder();
    expect(encode(e, ['authorization', 'x'])).toBe('1f08' + '0178');
    expect(encode(e, ['authorization', 'x'])).toBe('1f08' + '0178');
    expect(e.tableSize).toBe(0);
  });

  it('refers to a dynamic entry by name for a new value of an indexed custom name', () => {
    const e = new HpackEncoder();
    encode(e, ['x-a', '1']);
    // literal with incremental indexing (0x40) naming dynamic entry 62
    expect(encode(e, ['x-a', '2'])).toBe('7e' + '0132');
  });

  it('evicts oldest entries to stay within the table size', () => {
    const e = new HpackEncoder(100);
    encode(e, ['x-a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']); // 3 + 30 + 32 = 65
    encode(e, ['x-b', 'b']); // 36: total 101 > 100 → x-a evicted
    expect(e.tableSize).toBe(36);
    expect(encode(e, ['x-a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']).slice(0, 2)).toBe('40');
  });

  it('signals a reduced table size at the start of the next block (smallest, then final)', () => {
    const e = new HpackEncoder();
    e.setPeerMaxTableSize(0);
    e.setPeerMaxTableSize(2048);
    expect(encode(e, [':method', 'GET'])).toBe('20' + '3fe10f' + '82');
    expect(encode(e, [':method', 'GET'])).toBe('82');
  });

  it('announces a cap below 4096 in its first block', () => {
    const e = new HpackEncoder(256);
    expect(encode(e, [':method', 'GET'])).toBe('3fe101' + '82');
  });

  it('ignores a peer size that does not change the effective limit', () => {
    const e = new HpackEncoder(1024);
    encode(e, [':method', 'GET']);
    e.setPeerMaxTableSize(8192);
    expect(encode(e, [':method', 'GET'])).toBe('82');
  });

  it('round-trips random header lists through the hpack.js decoder over many blocks', () => {
    const name = fc.oneof(
      fc.constantFrom('content-type', 'x-a', 'x-b', ':authority', 'cookie', ':path', 'te'),
      fc.stringMatching(/^[a-z0-9-]{1,12}$/),
    );
    const value = fc.oneof(
      fc.constantFrom('', 'application/grpc', 'trailers', 'v'),
      fc.string({
        unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
        maxLength: 70,
      }),
    );
    const block = fc.array(fc.tuple(name, value), { maxLength: 12 }).map((pairs) => pairs.flat());
    fc.assert(
      fc.property(
        fc.array(fc.tuple(block, fc.option(fc.constantFrom(0, 64, 200, 4096), { freq: 4 })), {
          maxLength: 20,
        }),
        fc.constantFrom(150, 4096),
        (blocks, cap) => {
          const e = new HpackEncoder(cap);
          const d = new HpackDecoder(4096);
          for (const [fields, peerSize] of blocks) {
            if (peerSize !== null) e.setPeerMaxTableSize(peerSize);
            const out = Buffer.alloc(HpackEncoder.maxEncodedLength(fields));
            const end = e.encode(fields, out, 0);
            const decoded: string[] = [];
            d.decode(out.subarray(0, end), decoded);
            expect(decoded).toEqual(fields);
            expect(d.tableSize).toBe(e.tableSize);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
