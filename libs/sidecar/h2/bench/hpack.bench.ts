// Micro benchmark: HPACK encoding of a typical proxied request with this lib's encoder vs the
// hpack.js compressor, and decoding of a typical response with the hpack.js primitives (as used
// by HpackDecoder) vs the hpack.js decompressor stream.
//   npx tsx libs/sidecar/h2/bench/hpack.bench.ts [iterations=200000]
import { createRequire } from 'node:module';
import { HpackDecoder } from '../src/hpack-decoder.js';
import { HpackEncoder } from '../src/hpack-encoder.js';

interface HpackJsStreams {
  compressor: {
    create(o: { table: { maxSize: number } }): {
      write(headers: Array<{ name: string; value: string }>): void;
      read(): Buffer | null;
    };
  };
  decompressor: {
    create(o: { table: { maxSize: number } }): {
      write(chunk: Buffer): void;
      execute(): void;
      read(): { name: string; value: string } | null;
    };
  };
}

const hpack = createRequire(import.meta.url)('hpack.js') as HpackJsStreams;
const N = Number(process.argv[2] ?? 200_000);

const request = [
  ':method',
  'POST',
  ':scheme',
  'http',
  ':path',
  '/trellis.echo.v1.Echo/Unary',
  ':authority',
  'echo.default.svc.cluster.local:8080',
  'content-type',
  'application/grpc',
  'te',
  'trailers',
  'user-agent',
  'grpc-node-js/1.14.7',
  'grpc-accept-encoding',
  'identity,gzip',
  'x-request-id',
  '',
  'traceparent',
  '',
];

/** Prints the mean time of `fn` over N calls after a warm-up (subtract the baseline row). */
function time(label: string, fn: (i: number) => void): void {
  for (let i = 0; i < 20_000; i++) fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${label.padEnd(44)} ${(ns / 1000).toFixed(3)} µs/block`);
}

function withIds(i: number): string[] {
  const fields = request.slice();
  fields[17] = `req-${i}`;
  fields[19] = `00-${i.toString(16).padStart(32, '0')}-00f067aa0ba902b7-01`;
  return fields;
}

let sink = 0;
time('baseline: build the per-request list only', (i) => {
  sink += withIds(i).length;
});

const encoder = new HpackEncoder();
const out = Buffer.allocUnsafe(4096);
time('encode: sidecar-h2 HpackEncoder', (i) => {
  encoder.encode(withIds(i), out, 0);
});

const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
time('encode: hpack.js compressor', (i) => {
  const fields = withIds(i);
  const list: Array<{ name: string; value: string }> = [];
  for (let j = 0; j < fields.length; j += 2) list.push({ name: fields[j]!, value: fields[j + 1]! });
  compressor.write(list);
  while (compressor.read() !== null);
});

// A typical upstream response block as Node's server encodes it, after the table is warm.
const responseFields = [
  ':status',
  '200',
  'content-type',
  'application/grpc',
  'grpc-accept-encoding',
  'identity,gzip',
  'date',
  'Wed, 25 Nov 2026 13:00:00 GMT',
];
const warmEncoder = new HpackEncoder();
const blockBuf = Buffer.allocUnsafe(1024);
const firstBlock = Buffer.from(
  blockBuf.subarray(0, warmEncoder.encode(responseFields, blockBuf, 0)),
);
const warmBlock = Buffer.from(
  blockBuf.subarray(0, warmEncoder.encode(responseFields, blockBuf, 0)),
);

const decoder = new HpackDecoder(4096);
decoder.decode(firstBlock, []);
time('decode: sidecar-h2 HpackDecoder (hpack.js core)', () => {
  decoder.decode(warmBlock, []);
});

const decompressor = hpack.decompressor.create({ table: { maxSize: 4096 } });
decompressor.write(firstBlock);
decompressor.execute();
while (decompressor.read() !== null);
time('decode: hpack.js decompressor stream', () => {
  decompressor.write(warmBlock);
  decompressor.execute();
  while (decompressor.read() !== null);
});
if (sink === 0) console.log('unreachable');
