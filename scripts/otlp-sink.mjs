// A local OTLP/HTTP trace sink for `npm run bench:telemetry`: accepts POST /v1/traces (OTLP
// JSON, as @opentelemetry/exporter-trace-otlp-http sends it, plain or gzip) with 200, and counts
// what it received, so the sidecar's exporter does all of its real work (serialize, send, wait).
// Usage: node scripts/otlp-sink.mjs --port-file FILE --stats FILE
// Listens on 127.0.0.1 on a free port, written to --port-file once listening. On SIGTERM or
// SIGINT it writes {posts, bytes, spans, undecoded, other} as JSON to --stats and exits.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';

const { values } = parseArgs({
  options: { 'port-file': { type: 'string' }, stats: { type: 'string' } },
});
const portFile = values['port-file'];
const statsFile = values.stats;
if (!portFile || !statsFile) {
  process.stderr.write('usage: node scripts/otlp-sink.mjs --port-file FILE --stats FILE\n');
  process.exit(2);
}

// bytes: request bodies as sent (compressed if they were); undecoded: trace posts whose spans
// could not be counted (not JSON); other: requests to any other path or method (answered 404).
const stats = { posts: 0, bytes: 0, spans: 0, undecoded: 0, other: 0 };

/** Spans in an ExportTraceServiceRequest (resourceSpans[].scopeSpans[].spans[]). */
function spansIn(request) {
  let spans = 0;
  for (const resource of request.resourceSpans ?? [])
    for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
  return spans;
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      stats.other += 1;
      res.writeHead(404).end();
      return;
    }
    const body = Buffer.concat(chunks);
    stats.posts += 1;
    stats.bytes += body.length;
    try {
      const json = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      stats.spans += spansIn(JSON.parse(json.toString('utf8')));
    } catch {
      stats.undecoded += 1;
    }
    // An empty ExportTraceServiceResponse: everything accepted.
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

function stop() {
  writeFileSync(statsFile, `${JSON.stringify(stats)}\n`);
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

server.listen(0, '127.0.0.1', () => {
  writeFileSync(portFile, `${server.address().port}\n`);
});
