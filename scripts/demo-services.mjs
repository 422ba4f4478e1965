// The shop's demo workloads: frontend → catalog (90 % v1, 10 % v2) → pricing, each a small
// HTTP server on 127.0.0.1. Calls to other services go through the caller's sidecar
// (TRELLIS_OUTBOUND_<SERVICE> = its outbound port) with the service name as Host, the way an
// app in the mesh calls `http://catalog.shop/`.
import { createServer, request } from 'node:http';

const services = [
  {
    name: 'frontend',
    port: 18081,
    calls: 'catalog.shop',
    outbound: Number(process.env.TRELLIS_OUTBOUND_FRONTEND),
  },
  {
    name: 'catalog',
    version: 'v1',
    port: 18082,
    calls: 'pricing.shop',
    outbound: Number(process.env.TRELLIS_OUTBOUND_CATALOG),
  },
  {
    name: 'catalog',
    version: 'v2',
    port: 18083,
    calls: 'pricing.shop',
    outbound: Number(process.env.TRELLIS_OUTBOUND_CATALOG),
  },
  { name: 'pricing', port: 18084 },
];

function call(outbound, host, path, headers) {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: outbound, path, headers: { host, ...headers }, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => (body += d));
        res.on('end', () => {
          let parsed;
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = body.trim();
          }
          resolve({
            status: res.statusCode,
            trellisError: res.headers['x-trellis-error'],
            body: parsed,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ status: 502, error: error.message }));
    req.end();
  });
}

// As in every mesh, the app carries the request id and the trace context from the request it
// serves to the calls it makes: the sidecars cannot tell which outbound call belongs to which
// inbound request. Without this each hop would start a trace of its own.
const PROPAGATED = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
];

function propagatedHeaders(incoming) {
  const out = {};
  for (const name of PROPAGATED) if (incoming[name] !== undefined) out[name] = incoming[name];
  return out;
}

for (const service of services) {
  createServer(async (req, res) => {
    const answer = {
      service: service.name,
      version: service.version ?? 'v1',
      port: service.port,
      path: req.url,
      attempt: req.headers['x-trellis-attempt'],
    };
    if (service.calls) {
      answer[service.calls.split('.')[0]] = await call(
        service.outbound,
        service.calls,
        req.url,
        propagatedHeaders(req.headers),
      );
    }
    const body = JSON.stringify(answer, null, 2);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  })
    .listen(service.port, '127.0.0.1', () =>
      console.log(
        JSON.stringify({
          msg: 'demo service listening',
          service: service.name,
          version: service.version ?? 'v1',
          port: service.port,
        }),
      ),
    )
    .on('error', (error) => {
      console.error(`${service.name}: ${error.message}`);
      process.exit(1);
    });
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
