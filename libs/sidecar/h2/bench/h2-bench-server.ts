// Benchmark upstream: a Node h2c server in its own process (so its CPU is not counted against
// the client under test). GET answers a small body; POST echoes the request body.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

const body = Buffer.from('hello from upstream\n');
const server = http2.createServer({ settings: { maxConcurrentStreams: 1_000 } });
server.on('stream', (stream, headers) => {
  stream.on('error', () => undefined);
  if (headers[':method'] === 'POST') {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      stream.end(Buffer.concat(chunks));
    });
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'text/plain' });
  stream.end(body);
});
server.on('sessionError', () => undefined);
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('disconnect', () => process.exit(0));
