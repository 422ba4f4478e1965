// Inbound: every request a sidecar receives from other pods goes to the local application,
// over the protocol the client spoke (HTTP/2 in, h2c to the app; HTTP/1.1 in, HTTP/1.1 out).
import type { HostPort } from '@trellis/address';
import type { Layer } from '../context.js';

export function inboundLayer(app: HostPort): Layer {
  return (next) => (request) => {
    request.upstream = {
      address: app.host,
      port: app.port,
      protocol: request.exchange.protocol === 'h2' ? 'h2c' : 'http1',
    };
    request.record.route = 'inbound';
    request.record.endpoint = `${app.host}:${app.port}`;
    return next(request);
  };
}
