// CPU cost of the proxy's own request path (run: npx vitest bench): a request through the
// Proxy and the outbound stack to a scripted upstream that answers at once, no sockets. The
// `mean` column is in ms per request; it includes the fake exchange and connector, so compare
// runs with each other, not with the wire.
import { buildSnapshot, loadConfig } from '@trellis/config';
import { systemClock } from '@trellis/time';
import { bench, describe } from 'vitest';
import { Proxy } from '../src/proxy.js';
import { ProxyRuntime } from '../src/runtime.js';
import { buildStack } from '../src/stack.js';
import { FakeConnector, fakeExchange } from '../src/testing.js';

const config = `
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: catalog}
spec: {ports: [{port: 80}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: catalog}
spec: {service: catalog, endpoints: [{address: 127.0.0.1, port: 8080}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Route
metadata: {name: catalog}
spec:
  hosts: [catalog]
  destinations: [{service: catalog}]
`;

const { resources } = loadConfig([{ file: 'bench.yaml', text: config }]);
const runtime = ProxyRuntime.build(buildSnapshot(resources, 1), undefined, {
  localNamespace: 'default',
  clock: systemClock,
  random: Math.random,
});
const connector = new FakeConnector();
const body = Buffer.alloc(1024, 'x');
connector.script = (call) => {
  call.handler.onResponseHead(200, ['content-type', 'text/plain', 'content-length', '1024']);
  call.handler.onData(body);
  call.handler.onEnd(undefined);
};
const proxy = new Proxy({
  runtime: () => runtime,
  stack: buildStack(connector),
  clock: systemClock,
  random: Math.random,
  replayLimitBytes: 64 * 1024,
});
const headers = ['user-agent', 'wrk', 'accept', '*/*'];

describe('request path', () => {
  bench('GET through the outbound stack', async () => {
    connector.calls.length = 0;
    const client = fakeExchange({ authority: 'catalog', target: '/items', headers: [...headers] });
    proxy.handle(client.exchange);
    await client.finished;
  });
});
