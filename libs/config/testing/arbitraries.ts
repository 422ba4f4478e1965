// fast-check arbitraries for valid Trellis configs: per-kind document generators that respect
// every schema bound and cross-document rule, so a generated config must validate cleanly.
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import { HTTP_METHODS, RETRY_ON } from '../src/schema/route.js';
import { LB_ALGORITHMS } from '../src/schema/destination-policy.js';
import { PROPAGATIONS } from '../src/schema/telemetry.js';

type Doc = Record<string, unknown>;

export interface ServiceSketch {
  readonly name: string;
  readonly namespace: string;
  readonly ports: readonly number[];
}

const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,6}[a-z0-9])?$/);
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const headerValue = fc.string({ maxLength: 12 }).filter((s) => !/[\r\n\0]/.test(s));
const path = fc.stringMatching(/^\/[a-z0-9/_.-]{0,12}$/);
const port = fc.integer({ min: 1, max: 65535 });
const percent = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(0.5, 12.25, 99.9));
const safeRegex = fc.constantFrom('^/a', '[0-9]+', '(x|y)z?', '.*', '\\d{2,3}', 'caf\u00e9');

/** `undefined` half the time; otherwise a value from `arb`. */
function maybe<T>(arb: Arbitrary<T>): Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined });
}

/** A record without the keys whose value is undefined. */
function compact(record: Doc): Doc {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/** Duration strings between `minMs` and `maxMs`, written in one of the ways the same value can be. */
export function duration(minMs: number, maxMs: number): Arbitrary<string> {
  return fc.integer({ min: minMs, max: maxMs }).chain((ms) => {
    const forms = [`${ms}ms`];
    if (ms % 1000 === 0) forms.push(`${ms / 1000}s`);
    if (ms % 500 === 0 && ms >= 500) forms.push(`${ms / 1000}s`);
    if (ms % 60_000 === 0) forms.push(`${ms / 60_000}m`);
    if (ms > 60_000 && ms % 1000 === 0)
      forms.push(`${Math.floor(ms / 60_000)}m${(ms % 60_000) / 1000}s`);
    return fc.constantFrom(...forms);
  });
}

function envelope(kind: string, name: string, namespace: string, spec: Doc, labels?: Doc): Doc {
  const metadata = compact({
    name,
    namespace: namespace === 'default' ? undefined : namespace,
    labels,
  });
  return { apiVersion: 'trellis.dev/v1alpha1', kind, metadata, spec };
}

const serviceSketches: Arbitrary<ServiceSketch[]> = fc.uniqueArray(
  fc.record({
    name: label,
    namespace: fc.constantFrom('default', 'shop'),
    ports: fc.uniqueArray(port, { minLength: 1, maxLength: 3 }),
  }),
  { minLength: 1, maxLength: 4, selector: (s) => `${s.namespace}/${s.name}` },
);

function serviceDoc(sketch: ServiceSketch): Arbitrary<Doc> {
  return fc
    .record({
      protocols: fc.array(fc.constantFrom('http1', 'h2c', 'grpc', undefined), {
        minLength: sketch.ports.length,
        maxLength: sketch.ports.length,
      }),
      named: fc.boolean(),
      targetPort: maybe(port),
      aliases: fc.integer({ min: 0, max: 2 }),
      labels: maybe(fc.dictionary(label, label, { maxKeys: 2 })),
    })
    .map(({ protocols, named, targetPort, aliases, labels }) =>
      envelope(
        'Service',
        sketch.name,
        sketch.namespace,
        compact({
          ports: sketch.ports.map((p, i) =>
            compact({
              name: named ? `port-${i}` : undefined,
              port: p,
              targetPort: i === 0 ? targetPort : undefined,
              protocol: protocols[i],
            }),
          ),
          aliases:
            aliases === 0
              ? undefined
              : Array.from({ length: aliases }, (_, i) => `${sketch.name}.a${i}.example.com`),
        }),
        labels,
      ),
    );
}

function endpointsDoc(sketch: ServiceSketch): Arbitrary<Doc> {
  const endpoint = fc.record(
    {
      address: fc.oneof(fc.ipV4(), fc.ipV6()),
      port,
      weight: fc.integer({ min: 1, max: 1000 }),
      zone: fc.stringMatching(/^[a-z]{1,4}-[0-9]$/),
      conditions: fc.record(
        { ready: fc.boolean(), serving: fc.boolean(), terminating: fc.boolean() },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['address', 'port'] },
  );
  return fc
    .uniqueArray(endpoint, {
      maxLength: 3,
      selector: (e) => `${e.address.toLowerCase()}|${e.port}`,
    })
    .map((endpoints) =>
      envelope('Endpoints', sketch.name, sketch.namespace, { service: sketch.name, endpoints }),
    );
}

/** Weights that add up to 100 over `count` destinations. */
function weights(count: number): Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 0, max: 100 }), { minLength: count - 1, maxLength: count - 1 })
    .map((cuts) => {
      const sorted = [0, ...cuts.sort((a, b) => a - b), 100];
      return sorted.slice(1).map((cut, i) => cut - (sorted[i] ?? 0));
    });
}

function destinations(services: readonly ServiceSketch[], namespace: string): Arbitrary<Doc[]> {
  return fc
    .uniqueArray(fc.constantFrom(...services), {
      minLength: 1,
      maxLength: 3,
      selector: (s) => `${s.namespace}/${s.name}`,
    })
    .chain((targets) =>
      fc
        .tuple(
          weights(targets.length),
          fc.array(fc.nat(), { minLength: targets.length, maxLength: targets.length }),
          fc.boolean(),
        )
        .map(([shares, picks, omitSingleWeight]) =>
          targets.map((target, i) =>
            compact({
              service: target.name,
              namespace: target.namespace === namespace ? undefined : target.namespace,
              port:
                target.ports.length === 1
                  ? undefined
                  : target.ports[(picks[i] ?? 0) % target.ports.length],
              weight: targets.length === 1 && omitSingleWeight ? undefined : shares[i],
            }),
          ),
        ),
    );
}

const match: Arbitrary<Doc> = fc.record(
  {
    path: fc.oneof(
      path.map((exact) => ({ exact })),
      path.map((prefix) => ({ prefix })),
      safeRegex.map((regex) => ({ regex })),
    ),
    methods: fc.uniqueArray(fc.constantFrom(...HTTP_METHODS), { minLength: 1, maxLength: 3 }),
    headers: fc.array(
      fc
        .tuple(
          headerName,
          fc.constantFrom('exact', 'prefix', 'regex', 'present'),
          headerValue,
          fc.boolean(),
          maybe(fc.boolean()),
        )
        .map(([name, how, value, flag, invert]) =>
          compact({
            name,
            [how]:
              how === 'present'
                ? flag
                : how === 'regex'
                  ? '^v'
                  : how === 'prefix'
                    ? `p${value}`
                    : value,
            invert,
          }),
        ),
      { maxLength: 2 },
    ),
    query: fc.array(
      fc
        .tuple(label, fc.constantFrom('exact', 'regex', 'present'), headerValue, fc.boolean())
        .map(([name, how, value, flag]) => ({
          name,
          [how]: how === 'present' ? flag : how === 'regex' ? 'x+' : value,
        })),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);

const retries: Arbitrary<Doc> = fc
  .record(
    {
      attempts: fc.integer({ min: 0, max: 10 }),
      perTryTimeout: duration(1, 3_600_000),
      retryOn: fc.uniqueArray(
        fc.constantFrom(...RETRY_ON.filter((r) => r !== 'retriable-status-codes')),
        { minLength: 1, maxLength: 4 },
      ),
      backoff: fc
        .tuple(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 0, max: 540_000 }))
        .map(([base, extra]) => ({
          base: `${base}ms`,
          max: `${base + extra}ms`,
        })),
      retryNonIdempotent: fc.boolean(),
      byStatus: fc.uniqueArray(fc.integer({ min: 100, max: 599 }), { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: [] },
  )
  .map(({ byStatus, retryOn, ...rest }) =>
    byStatus === undefined
      ? compact({ ...rest, retryOn })
      : compact({
          ...rest,
          retryOn: [...(retryOn ?? []), 'retriable-status-codes'],
          retriableStatusCodes: byStatus,
        }),
  );

const headerChanges: Arbitrary<Doc> = fc.record(
  {
    set: fc.dictionary(headerName, headerValue, { maxKeys: 2 }),
    add: fc.dictionary(headerName, headerValue, { maxKeys: 2 }),
    remove: fc.array(headerName, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

function routeDoc(
  name: string,
  namespace: string,
  index: number,
  services: readonly ServiceSketch[],
): Arbitrary<Doc> {
  // Hosts are unique per route, so generated routes never overlap.
  const hosts = fc
    .uniqueArray(fc.constantFrom('', '.shop', '.example.com', ':8080'), {
      minLength: 1,
      maxLength: 3,
    })
    .map((suffixes) => suffixes.map((s) => `r${index}${s}`));
  const action = fc.oneof(
    fc.record({
      destinations: destinations(services, namespace),
      rewrite: maybe(fc.record({ host: label })),
    }),
    fc.record({
      redirect: fc.record(
        {
          status: fc.constantFrom(301, 302, 303, 307, 308),
          scheme: fc.constantFrom('http', 'https'),
          host: label,
          port,
          path,
          stripQuery: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
    }),
    fc.record({
      directResponse: fc.record(
        {
          status: fc.integer({ min: 200, max: 599 }),
          body: fc.string({ maxLength: 40 }),
          contentType: fc.constantFrom('text/plain', 'application/json'),
        },
        { requiredKeys: ['status'] },
      ),
    }),
  );
  return fc
    .record({
      hosts,
      action,
      match: maybe(match),
      timeout: maybe(duration(1, 3_600_000)),
      retries: maybe(retries),
      fault: maybe(
        fc.oneof(
          fc.record({ delay: fc.record({ percent, duration: duration(1, 10_000) }) }),
          fc.record({
            abort: fc.oneof(
              fc.record({ percent, httpStatus: fc.integer({ min: 200, max: 599 }) }),
              fc.record({ percent, grpcStatus: fc.integer({ min: 0, max: 16 }) }),
            ),
          }),
        ),
      ),
      requestHeaders: maybe(headerChanges),
      responseHeaders: maybe(headerChanges),
      mirror: maybe(
        fc.tuple(fc.constantFrom(...services), maybe(percent)).map(([target, share]) =>
          compact({
            service: target.name,
            namespace: target.namespace === namespace ? undefined : target.namespace,
            port: target.ports.length === 1 ? undefined : target.ports[0],
            percent: share,
          }),
        ),
      ),
    })
    .map(({ hosts, action, ...rest }) =>
      envelope('Route', name, namespace, compact({ hosts, ...action, ...rest })),
    );
}

function destinationPolicyDoc(sketch: ServiceSketch): Arbitrary<Doc> {
  return fc
    .record(
      {
        algorithm: fc.constantFrom(...LB_ALGORITHMS),
        ewmaDecay: duration(1, 3_600_000),
        connectTimeout: duration(1, 60_000),
        connectionPool: fc.record(
          {
            maxConnections: fc.integer({ min: 1, max: 1_000_000 }),
            maxPendingRequests: fc.integer({ min: 1, max: 1_000_000 }),
            maxActiveRequests: fc.integer({ min: 1, max: 1_000_000 }),
            maxRequestsPerConnection: fc.integer({ min: 1, max: 1_000_000 }),
            idleTimeout: duration(1000, 86_400_000),
          },
          { requiredKeys: [] },
        ),
        outlierDetection: fc
          .record({
            consecutive5xx: fc.integer({ min: 1, max: 1000 }),
            consecutiveGatewayErrors: fc.integer({ min: 1, max: 1000 }),
            interval: duration(100, 3_600_000),
            baseSeconds: fc.integer({ min: 1, max: 3600 }),
            extraSeconds: fc.integer({ min: 0, max: 3600 }),
            maxEjectionPercent: percent,
          })
          .map(({ baseSeconds, extraSeconds, ...rest }) => ({
            ...rest,
            baseEjectionTime: `${baseSeconds}s`,
            maxEjectionTime: `${baseSeconds + extraSeconds}s`,
          })),
      },
      { requiredKeys: ['algorithm'] },
    )
    .map(({ algorithm, ewmaDecay, ...rest }) =>
      envelope(
        'DestinationPolicy',
        sketch.name,
        sketch.namespace,
        compact({
          service: sketch.name,
          loadBalancer: compact({
            algorithm,
            hashHeader: algorithm === 'consistent-hash' ? 'x-user' : undefined,
            ewmaDecay,
          }),
          ...rest,
        }),
      ),
    );
}

const tokenBucket = fc.record({
  maxTokens: fc.integer({ min: 1, max: 1_000_000_000 }),
  tokensPerFill: fc.integer({ min: 1, max: 1_000_000_000 }),
  fillInterval: duration(1, 86_400_000),
});

function rateLimitDoc(name: string, namespace: string, target: Doc): Arbitrary<Doc> {
  return fc
    .record({ tokenBucket, statusCode: maybe(fc.integer({ min: 400, max: 599 })) })
    .map(({ tokenBucket: bucket, statusCode }) =>
      envelope(
        'RateLimit',
        name,
        namespace,
        compact({ ...target, tokenBucket: bucket, statusCode }),
      ),
    );
}

function retryBudgetDoc(sketch: ServiceSketch): Arbitrary<Doc> {
  return fc
    .record(
      {
        ratio: fc.constantFrom(0, 0.05, 0.2, 0.5, 1),
        minRetriesPerSecond: fc.integer({ min: 0, max: 100_000 }),
        ttl: duration(1000, 3_600_000),
      },
      { requiredKeys: [] },
    )
    .map((spec) =>
      envelope('RetryBudget', sketch.name, sketch.namespace, { service: sketch.name, ...spec }),
    );
}

function telemetryDoc(
  name: string,
  namespace: string,
  service: string | undefined,
): Arbitrary<Doc> {
  return fc
    .record(
      {
        tracing: fc.record(
          {
            samplingPercent: percent,
            propagation: fc.uniqueArray(fc.constantFrom(...PROPAGATIONS), {
              minLength: 1,
              maxLength: 3,
            }),
          },
          { requiredKeys: [] },
        ),
        accessLog: fc.record(
          {
            enabled: fc.boolean(),
            samplingPercent: percent,
            format: fc.constantFrom('%START_TIME% %REQ(:path)%', 'plain'),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    )
    .map((spec) => envelope('Telemetry', name, namespace, compact({ service, ...spec })));
}

/** Subsets of `items`, in their order. */
function subset<T>(items: readonly T[]): Arbitrary<T[]> {
  return fc.subarray([...items]);
}

/** A whole valid config: services, then documents of every other kind that refer to them. */
export const validConfig: Arbitrary<Doc[]> = serviceSketches.chain((sketches) => {
  const routeCount = fc.integer({ min: 0, max: 3 });
  return fc
    .tuple(
      subset(sketches),
      subset(sketches),
      subset(sketches),
      subset(sketches),
      routeCount,
      fc.boolean(),
    )
    .chain(([withEndpoints, withPolicy, withBudget, withLimit, routes, meshTelemetry]) => {
      const routeDocs = Array.from({ length: routes }, (_, i) =>
        routeDoc(`route-${i}`, 'shop', i, sketches),
      );
      const limits = [
        ...withLimit.map((s) => rateLimitDoc(s.name, s.namespace, { service: s.name })),
        ...Array.from({ length: routes }, (_, i) =>
          rateLimitDoc(`route-${i}`, 'shop', { route: `route-${i}` }),
        ),
      ];
      return fc
        .tuple(
          fc.tuple(...sketches.map(serviceDoc)),
          fc.tuple(...withEndpoints.map(endpointsDoc)),
          fc.tuple(...routeDocs),
          fc.tuple(...withPolicy.map(destinationPolicyDoc)),
          subset(limits).chain((chosen) => fc.tuple(...chosen)),
          fc.tuple(...withBudget.map(retryBudgetDoc)),
          fc.tuple(...withBudget.map((s) => telemetryDoc(s.name, s.namespace, s.name))),
          meshTelemetry
            ? telemetryDoc('mesh', 'default', undefined).map((d) => [d])
            : fc.constant([]),
        )
        .map((groups) => groups.flat() as Doc[]);
    });
});
