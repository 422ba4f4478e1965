// Harness for the layer specs: the whole outbound stack over a scripted upstream on a FakeClock,
// built from YAML config, with the stack's options (stats, breaker settings) passed through.
import { buildSnapshot, loadConfig } from '@trellis/config';
import { FakeClock } from '@trellis/time';
import { newProxyRequest } from '../context.js';
import type { ProxyRequest } from '../context.js';
import { Proxy } from '../proxy.js';
import type { CompletedRequest } from '../proxy.js';
import { ProxyRuntime } from '../runtime.js';
import { buildStack } from '../stack.js';
import type { StackOptions } from '../stack.js';
import { SidecarStats } from '../stats.js';
import { FakeConnector, fakeExchange } from '../testing.js';

/** Service catalog.shop (port 8080) with two endpoints; specs append routes and policies. */
export const BASE_CONFIG = `
apiVersion: trellis.dev/v1alpha1
kind: Service
metadata: {name: catalog, namespace: shop}
spec: {ports: [{port: 8080}]}
---
apiVersion: trellis.dev/v1alpha1
kind: Endpoints
metadata: {name: catalog, namespace: shop}
spec:
  service: catalog
  endpoints: [{address: 10.0.0.1, port: 8080}, {address: 10.0.0.2, port: 8080}]
`;

export interface HarnessOptions {
  readonly random?: () => number;
  readonly replayLimitBytes?: number;
  readonly stack?: Omit<StackOptions, 'stats'>;
}

export function runtimeOf(
  text: string,
  clock: FakeClock,
  random: () => number,
  previous?: ProxyRuntime,
) {
  const { resources, issues } = loadConfig([{ file: 'test.yaml', text }]);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) throw new Error(JSON.stringify(errors, null, 2));
  return ProxyRuntime.build(buildSnapshot(resources, 1), previous, {
    localNamespace: 'shop',
    clock,
    random,
  });
}

export function harness(extra = '', options: HarnessOptions = {}) {
  const clock = new FakeClock(1_000);
  const random = options.random ?? (() => 0);
  const runtime = runtimeOf(BASE_CONFIG + extra, clock, random);
  const connector = new FakeConnector();
  const stats = new SidecarStats();
  const completed: CompletedRequest[] = [];
  const proxy = new Proxy({
    runtime: () => runtime,
    stack: buildStack(connector, { ...options.stack, stats }),
    clock,
    random,
    replayLimitBytes: options.replayLimitBytes ?? 64 * 1024,
    onComplete: (c) => completed.push(c),
  });
  const send = (init: Parameters<typeof fakeExchange>[0]) => {
    const exchange = fakeExchange(init);
    proxy.handle(exchange.exchange);
    return exchange;
  };
  return { clock, connector, send, completed, runtime, stats };
}

/** A request to catalog as the listener makes it, for driving one layer by hand. */
export function catalogRequest(runtime: ProxyRuntime, clock: FakeClock): ProxyRequest {
  return newProxyRequest({
    exchange: fakeExchange({ authority: 'catalog' }).exchange,
    runtime,
    clock,
    random: () => 0,
    requestId: 'r-1',
    headers: [],
    body: undefined,
  });
}

/** Lets promise chains settle between fake-clock steps. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
