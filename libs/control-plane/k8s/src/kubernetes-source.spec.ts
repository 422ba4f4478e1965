import { afterEach, describe, expect, it } from 'vitest';
import { validateDocuments } from '@trellis/config';
import { compileStates } from '@trellis/control-plane-core';
import { KubernetesSourceError } from './errors.js';
import { kubernetesSource } from './kubernetes-source.js';
import type { KubernetesSourceState } from './source-state.js';
import { FakeApiServer } from './testing/fake-api-server.js';
import type { KubeObject } from './testing/fake-api-server.js';
import {
  SourceRecorder,
  documentValue,
  fixtureObject,
  kubeConfigFor,
  startFixtureServer,
  until,
} from './testing/harness.js';

type SliceObject = KubeObject & { endpoints: { conditions: Record<string, boolean> }[] };
type ServiceObject = KubeObject & { spec: { ports: object[] } };
type PodObject = KubeObject & {
  status: { startTime: string; conditions: { type: string; status: string }[] };
};

const EXTERNAL_NAME_WARNING = {
  severity: 'warning',
  code: 'TRL_K8S_UNSUPPORTED',
  message:
    'Service shop/payments is of type ExternalName (payments.example.com): it names a DNS host, not endpoints, so Trellis skips it',
};

const ALL_FILES = [
  'k8s:default/Service/kubernetes',
  'k8s:kube-system/Service/kube-dns',
  'k8s:shop/Service/catalog',
  'k8s:shop/Service/frontend',
  'k8s:shop/Service/pricing',
  'k8s:default/Endpoints/kubernetes',
  'k8s:kube-system/Endpoints/kube-dns',
  'k8s:shop/Endpoints/catalog',
  'k8s:shop/Endpoints/frontend',
  'k8s:shop/Endpoints/pricing',
  'k8s:shop/Route/catalog',
  'k8s:shop/DestinationPolicy/catalog',
  'k8s:shop/RateLimit/pricing',
  'k8s:shop/RetryBudget/catalog',
  'k8s:shop/Telemetry/mesh',
];

const CRDS = ['routes', 'destinationpolicies', 'ratelimits', 'retrybudgets', 'telemetries'];

let server!: FakeApiServer;
let recorder: SourceRecorder | undefined;
const servers: FakeApiServer[] = [];

/** A fake API server seeded with the recorded cluster, closed after the test. */
async function serve(): Promise<FakeApiServer> {
  server = await startFixtureServer();
  servers.push(server);
  return server;
}

/** A source on `server`, once it emitted its first state. */
async function start(options: ConstructorParameters<typeof SourceRecorder>[1] = {}) {
  recorder = new SourceRecorder(server.url, options);
  await recorder.nextState('the first state', () => true);
  return recorder;
}

function files(state: KubernetesSourceState | undefined): string[] {
  return state?.documents.map((d) => d.file) ?? [];
}

interface EndpointValue {
  address: string;
  port: number;
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
}

function endpointOf(state: KubernetesSourceState, service: string, address: string) {
  const value = documentValue(state, `k8s:shop/Endpoints/${service}`) as
    { spec: { endpoints: EndpointValue[] } } | undefined;
  return value?.spec.endpoints.filter((e) => e.address === address) ?? [];
}

function conditionsOf(state: KubernetesSourceState, service: string, address: string) {
  return endpointOf(state, service, address)[0]?.conditions;
}

function requests(verb: 'list' | 'watch', plural: string) {
  return server.requests.filter((r) => r.verb === verb && r.plural === plural);
}

afterEach(async () => {
  recorder?.stop();
  recorder = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('kubernetesSource against a fake API server', () => {
  it('emits its first state only after every resource was listed, and its documents validate cleanly', async () => {
    await serve();
    const source = await start();
    const first = source.states[0] as KubernetesSourceState;
    expect(source.states).toHaveLength(1);
    expect(first.source).toBe(`k8s:${server.url}`);
    expect(files(first)).toEqual(ALL_FILES);
    expect(first.issues).toEqual([EXTERNAL_NAME_WARNING]);
    expect(validateDocuments(first.documents).issues).toEqual([]);
    expect(validateDocuments(first.documents).resources).toHaveLength(ALL_FILES.length);
  });

  it('emits nothing while one resource is still being listed', async () => {
    await serve();
    const release = server.holdLists('telemetries');
    recorder = new SourceRecorder(server.url);
    const others = ['services', 'endpointslices', 'pods', ...CRDS.slice(0, 4)];
    await until('the other watches', () => others.every((p) => server.openWatches(p) === 1));
    await until('the telemetries list waiting', () => server.heldLists('telemetries') === 1);
    expect(recorder.states).toEqual([]);
    release();
    const first = await recorder.nextState('the first state', () => true);
    expect(files(first)).toEqual(ALL_FILES);
    expect(recorder.states).toHaveLength(1);
  });

  it('lists each resource once and watches from the list resourceVersion with bookmarks', async () => {
    await serve();
    await start();
    const plurals = ['services', 'endpointslices', 'pods', ...CRDS];
    await until('a watch per resource', () => plurals.every((p) => server.openWatches(p) === 1));
    for (const plural of plurals) {
      expect(requests('list', plural).map((r) => r.params)).toEqual([{ limit: '500' }]);
      expect(requests('watch', plural).map((r) => r.params)).toEqual([
        {
          watch: 'true',
          resourceVersion: '48213',
          allowWatchBookmarks: 'true',
          timeoutSeconds: '300',
        },
      ]);
    }
  });

  it('indexes pods by name and by address, leaving host-network pods out of the address index', async () => {
    await serve();
    const { states } = await start();
    const pods = (states[0] as KubernetesSourceState).pods;
    expect([...pods.byName.keys()]).toEqual([
      'kube-system/kube-proxy-7tq9d',
      'shop/catalog-6d5f7c9b8-4xq2m',
      'shop/catalog-6d5f7c9b8-9bz7k',
      'shop/catalog-6d5f7c9b8-rt5vw',
      'shop/frontend-84c9d7b6f5-2kd8s',
      'shop/frontend-84c9d7b6f5-x7p4n',
      'shop/pricing-5f7b8c9d6-hx2cm',
    ]);
    expect(pods.byAddress.get('fd00:10:244:3::9')).toEqual({
      namespace: 'shop',
      name: 'catalog-6d5f7c9b8-rt5vw',
      addresses: ['10.244.3.9', 'fd00:10:244:3::9'],
      labels: {
        'app.kubernetes.io/name': 'catalog',
        'app.kubernetes.io/part-of': 'shop',
        'pod-template-hash': '6d5f7c9b8',
      },
      ready: false,
      phase: 'Running',
      nodeName: 'kind-worker3',
      hostNetwork: false,
    });
    expect(pods.byAddress.has('172.18.0.3')).toBe(false);
  });

  it('emits a new state when an EndpointSlice endpoint starts terminating', async () => {
    await serve();
    const source = await start();
    const slice = fixtureObject('endpointslices', 'shop', 'frontend-m2lqd') as SliceObject;
    slice.endpoints[1] = {
      ...slice.endpoints[1],
      conditions: { ready: false, serving: true, terminating: true },
    };
    server.apply('endpointslices', slice);
    const next = await source.nextState(
      'frontend endpoint 10.244.2.21 terminating',
      (s) => conditionsOf(s, 'frontend', '10.244.2.21')?.terminating === true,
      1,
    );
    expect(endpointOf(next, 'frontend', '10.244.2.21')).toEqual([
      {
        address: '10.244.2.21',
        port: 8080,
        weight: 1,
        zone: 'europe-west1-c',
        conditions: { ready: false, serving: true, terminating: true },
      },
    ]);
    expect(conditionsOf(next, 'frontend', '10.244.1.20')).toEqual({
      ready: true,
      serving: true,
      terminating: false,
    });
    expect(source.states).toHaveLength(2);
  });

  it('drops a deleted Service and its Endpoints from the state', async () => {
    await serve();
    const source = await start();
    server.remove('services', 'shop', 'pricing');
    const next = await source.nextState(
      'the state without pricing',
      (s) => !files(s).includes('k8s:shop/Service/pricing'),
      1,
    );
    expect(files(next)).toEqual(
      ALL_FILES.filter(
        (f) => f !== 'k8s:shop/Service/pricing' && f !== 'k8s:shop/Endpoints/pricing',
      ),
    );
    // The RateLimit still names pricing: validation, not the source, reports that.
    expect(validateDocuments(next.documents).issues.map((i) => i.message)).toEqual([
      'refers to unknown service "pricing" in namespace "shop"',
    ]);
  });

  it.each(['Expired', 'Gone'] as const)(
    'relists after an ERROR 410 %s event on an open watch and ends with the server state',
    async (reason) => {
      await serve();
      const source = await start();
      await until('the services watch', () => server.openWatches('services') === 1);
      // Changes the client never hears about: they happened while its watch cache was behind.
      const orders = fixtureObject('services', 'shop', 'frontend');
      orders.metadata.name = 'orders';
      server.apply('services', orders, { deliver: false });
      server.remove('services', 'shop', 'pricing', { deliver: false });
      server.compact();
      expect(server.expireWatches('services', reason)).toBe(1);
      const next = await source.nextState(
        'the relisted state',
        (s) => files(s).includes('k8s:shop/Service/orders'),
        1,
      );
      expect(files(next).filter((f) => f.includes('/Service/'))).toEqual([
        'k8s:default/Service/kubernetes',
        'k8s:kube-system/Service/kube-dns',
        'k8s:shop/Service/catalog',
        'k8s:shop/Service/frontend',
        'k8s:shop/Service/orders',
      ]);
      expect(requests('list', 'services')).toHaveLength(2);
      expect(next.issues).toEqual([EXTERNAL_NAME_WARNING]);
    },
  );

  it('resumes a dropped watch from the last resourceVersion it saw, losing no event and not relisting', async () => {
    await serve();
    const source = await start();
    const slice = fixtureObject('endpointslices', 'shop', 'pricing-5tjbh') as SliceObject;
    const conditions = (slice.endpoints[0] as SliceObject['endpoints'][number]).conditions;
    conditions['ready'] = false;
    const seen = server.apply('endpointslices', slice);
    await source.nextState(
      'pricing not ready',
      (s) => conditionsOf(s, 'pricing', '10.244.3.30')?.ready === false,
      1,
    );
    // The server closes the stream; the next change happens before the client is back.
    expect(server.dropWatches('endpointslices')).toBe(1);
    conditions['ready'] = true;
    server.apply('endpointslices', slice);
    const next = await source.nextState(
      'pricing ready again',
      (s) => conditionsOf(s, 'pricing', '10.244.3.30')?.ready === true,
      2,
    );
    expect(conditionsOf(next, 'pricing', '10.244.3.30')).toEqual({
      ready: true,
      serving: true,
      terminating: false,
    });
    expect(requests('list', 'endpointslices')).toHaveLength(1);
    expect(requests('watch', 'endpointslices').map((r) => r.params['resourceVersion'])).toEqual([
      '48213',
      seen,
    ]);
  });

  it('relists when the resourceVersion it resumes from was compacted (410 on the re-watch)', async () => {
    await serve();
    const source = await start();
    const frontend = fixtureObject('services', 'shop', 'frontend');
    frontend.metadata.labels = { tier: 'web' };
    server.apply('services', frontend);
    await source.nextState(
      'frontend relabelled',
      (s) => JSON.stringify(documentValue(s, 'k8s:shop/Service/frontend')).includes('"tier"'),
      1,
    );
    server.remove('services', 'shop', 'catalog', { deliver: false });
    server.compact();
    server.dropWatches('services');
    const next = await source.nextState(
      'catalog gone after the relist',
      (s) => !files(s).includes('k8s:shop/Service/catalog'),
      2,
    );
    expect(files(next)).not.toContain('k8s:shop/Endpoints/catalog');
    expect(requests('list', 'services')).toHaveLength(2);
    await until('the watch after the relist', () => requests('watch', 'services').length === 3);
    // The first watch, the re-watch answered with 410, and the watch from the new list.
    expect(requests('watch', 'services').map((r) => r.params['resourceVersion'])).toEqual([
      '48213',
      '48214',
      '48215',
    ]);
  });

  it('resumes from a BOOKMARK resourceVersion, so compaction after it needs no relist', async () => {
    await serve();
    await start();
    await until('the services watch', () => server.openWatches('services') === 1);
    const pods = fixtureObject('pods', 'shop', 'pricing-5f7b8c9d6-hx2cm');
    server.apply('pods', pods); // moves the server's resourceVersion past the services list
    const bookmarked = server.resourceVersion;
    server.bookmark('services');
    server.dropWatches('services');
    server.compact();
    await until('the services re-watch', () => requests('watch', 'services').length === 2);
    expect(requests('watch', 'services')[1]?.params['resourceVersion']).toBe(bookmarked);
    await until('the services watch again', () => server.openWatches('services') === 1);
    expect(requests('list', 'services')).toHaveLength(1);
  });

  it('retries a watch that the server closes at once without events after backoff, not in a loop', async () => {
    await serve();
    const source = await start();
    await until('the services watch', () => server.openWatches('services') === 1);
    server.dropWatches('services');
    const [warning] = await source.warnings('services', 1);
    expect(warning?.fields).toEqual({
      resource: 'services',
      namespace: undefined,
      phase: 'watch',
      retryInMs: 100,
    });
    expect(requests('watch', 'services')).toHaveLength(1);
    source.clock.advance(100);
    await until('the services re-watch', () => requests('watch', 'services').length === 2);
    expect(requests('watch', 'services')[1]?.params['resourceVersion']).toBe('48213');
    expect(requests('list', 'services')).toHaveLength(1);
    expect(source.states).toHaveLength(1);
  });

  it('reports each missing Trellis CRD as a warning while Services keep flowing, and picks a CRD up once installed', async () => {
    await serve();
    for (const plural of CRDS) server.setServed(plural, false);
    const source = await start();
    const first = source.states[0] as KubernetesSourceState;
    expect(files(first)).toEqual(ALL_FILES.slice(0, 10));
    expect(first.issues).toEqual([
      ...CRDS.map((plural, i) => ({
        severity: 'warning',
        code: 'TRL_K8S_CRD_MISSING',
        message: `${plural}.trellis.dev/v1alpha1 is not served in all namespaces (HTTP 404 Not Found: the server could not find the requested resource): the ${plural}.trellis.dev CRD is not installed, so no ${['Route', 'DestinationPolicy', 'RateLimit', 'RetryBudget', 'Telemetry'][i]} documents are read; retrying`,
      })),
      EXTERNAL_NAME_WARNING,
    ]);
    expect(validateDocuments(first.documents).issues).toEqual([]);
    expect(compileStates([first], undefined, 0).published).toBe(true);

    const frontend = fixtureObject('services', 'shop', 'frontend') as ServiceObject;
    frontend.spec.ports.push({ name: 'admin', protocol: 'TCP', port: 9000, targetPort: 9000 });
    server.apply('services', frontend);
    const updated = await source.nextState(
      'frontend with its admin port',
      (s) => JSON.stringify(documentValue(s, 'k8s:shop/Service/frontend')).includes('"admin"'),
      1,
    );
    expect(updated.issues).toHaveLength(6);

    server.setServed('routes', true);
    source.clock.advance(100);
    const installed = await source.nextState(
      'routes read',
      (s) => files(s).includes('k8s:shop/Route/catalog'),
      2,
    );
    expect(installed.issues.map((i) => i.code)).toEqual([
      'TRL_K8S_CRD_MISSING',
      'TRL_K8S_CRD_MISSING',
      'TRL_K8S_CRD_MISSING',
      'TRL_K8S_CRD_MISSING',
      'TRL_K8S_UNSUPPORTED',
    ]);
  });

  it('backs off exponentially while the API server answers 500, then recovers', async () => {
    await serve();
    server.failNext('services', 'list', 500, 3);
    const source = await start();
    const failing = source.states[0] as KubernetesSourceState;
    expect(failing.issues[0]).toEqual({
      severity: 'error',
      code: 'TRL_K8S_API',
      message:
        'cannot list services in all namespaces: HTTP 500 Internal Server Error: Internal error occurred: etcdserver: request timed out; no documents come from services until it succeeds; retrying',
    });
    expect(files(failing)).toEqual(ALL_FILES.slice(10));
    // Publishing now would drop every Service from the mesh: the error holds the snapshot back.
    expect(compileStates([failing], undefined, 0).published).toBe(false);

    for (const [attempt, delay] of [100, 200, 400].entries()) {
      const lines = await source.warnings('services', attempt + 1);
      expect(lines[attempt]?.fields['retryInMs']).toBe(delay);
      expect(lines[attempt]?.fields['status']).toBe(500);
      source.clock.advance(delay);
    }
    const recovered = await source.nextState(
      'services listed',
      (s) => files(s).includes('k8s:shop/Service/catalog'),
      1,
    );
    expect(files(recovered)).toEqual(ALL_FILES);
    expect(recovered.issues).toEqual([EXTERNAL_NAME_WARNING]);
    expect(compileStates([recovered], undefined, 0).published).toBe(true);
    expect(requests('list', 'services').map((r) => r.status)).toEqual([500, 500, 500, 200]);
    // Identical failures do not make new states: the first one, then the recovery.
    expect(source.states).toHaveLength(2);
  });

  it('keeps the listed objects and warns when a watch fails after the sync', async () => {
    await serve();
    server.failNext('endpointslices', 'watch', 503, 1);
    const source = await start();
    const stale = await source.nextState('a watch failure', (s) => s.issues.length === 2);
    expect(stale.issues[0]).toEqual({
      severity: 'warning',
      code: 'TRL_K8S_API',
      message:
        'watch of endpointslices.discovery.k8s.io in all namespaces failed: HTTP 503 Service Unavailable; keeping the endpointslices.discovery.k8s.io listed before; retrying',
    });
    expect(files(stale)).toEqual(ALL_FILES);
    source.clock.advance(100);
    const healed = await source.nextState(
      'the watch open again',
      (s) => s.issues.length === 1,
      source.states.indexOf(stale) + 1,
    );
    expect(healed.issues).toEqual([EXTERNAL_NAME_WARNING]);
    expect(requests('list', 'endpointslices')).toHaveLength(1);
  });

  it('gives up on a list that gets no answer within 60 s and lists again after backoff', async () => {
    await serve();
    const release = server.holdLists('telemetries');
    recorder = new SourceRecorder(server.url);
    await until('the telemetries list waiting', () => server.heldLists('telemetries') === 1);
    recorder.clock.advance(60_000);
    const first = await recorder.nextState('the first state', () => true);
    expect(first.issues[0]).toEqual({
      severity: 'error',
      code: 'TRL_K8S_API',
      message:
        'cannot list telemetries.trellis.dev in all namespaces: no answer to the list of telemetries.trellis.dev in all namespaces within 60 s; no documents come from telemetries.trellis.dev until it succeeds; retrying',
    });
    release();
    recorder.clock.advance(100);
    const healed = await recorder.nextState(
      'telemetry read',
      (s) => files(s).includes('k8s:shop/Telemetry/mesh'),
      1,
    );
    expect(healed.issues).toEqual([EXTERNAL_NAME_WARNING]);
  });

  it('abandons a watch the server leaves open past its timeout and resumes it without relisting', async () => {
    await serve();
    const source = await start();
    const plurals = ['services', 'endpointslices', 'pods', ...CRDS];
    await until('all watches open', () => plurals.every((p) => server.openWatches(p) === 1));
    // The server counts a watch open when the request arrives; the client arms its watchdog only
    // once the response starts, so wait for one watchdog per watch before moving time.
    await until('every watchdog armed', () => source.clock.pendingTimers === plurals.length);
    // The server was asked to end each watch after 300 s; the client waits 30 s more.
    source.clock.advance(330_000);
    await until('every watch re-opened', () =>
      plurals.every((p) => requests('watch', p).length === 2 && server.openWatches(p) === 1),
    );
    for (const plural of plurals) {
      expect(requests('watch', plural).map((r) => r.params['resourceVersion'])).toEqual([
        '48213',
        '48213',
      ]);
      expect(requests('list', plural)).toHaveLength(1);
    }
    expect(source.logs).toEqual([]);
    expect(source.states).toHaveLength(1);
  });

  it('backs off after an ERROR event other than 410 instead of re-watching at once', async () => {
    await serve();
    const source = await start();
    await until('the services watch', () => server.openWatches('services') === 1);
    expect(server.failWatches('services', 500)).toBe(1);
    const failing = await source.nextState('the watch failure', (s) => s.issues.length === 2, 1);
    expect(failing.issues[0]).toEqual({
      severity: 'warning',
      code: 'TRL_K8S_API',
      message:
        'watch of services in all namespaces failed: HTTP 500 Internal Server Error: Internal error occurred: etcdserver: request timed out; keeping the services listed before; retrying',
    });
    expect(files(failing)).toEqual(ALL_FILES);
    expect(requests('watch', 'services')).toHaveLength(1);
    source.clock.advance(100);
    const healed = await source.nextState('watching again', (s) => s.issues.length === 1, 2);
    expect(healed.issues).toEqual([EXTERNAL_NAME_WARNING]);
    expect(requests('watch', 'services').map((r) => r.params['resourceVersion'])).toEqual([
      '48213',
      '48213',
    ]);
    expect(requests('list', 'services')).toHaveLength(1);
  });

  it('reports RBAC denials naming the resource and status: an error for Services, a warning for Pods', async () => {
    await serve();
    server.failNext('services', 'list', 403, 1);
    server.failNext('pods', 'list', 403, 1);
    const source = await start();
    expect((source.states[0] as KubernetesSourceState).issues).toEqual([
      {
        severity: 'error',
        code: 'TRL_K8S_API',
        message:
          'cannot list services in all namespaces: HTTP 403 Forbidden: services is forbidden: User "system:serviceaccount:trellis-system:trellis-control-plane" cannot list resource "services" in API group "" at the cluster scope; no documents come from services until it succeeds; retrying',
      },
      {
        severity: 'warning',
        code: 'TRL_K8S_API',
        message:
          'cannot list pods in all namespaces: HTTP 403 Forbidden: pods is forbidden: User "system:serviceaccount:trellis-system:trellis-control-plane" cannot list resource "pods" in API group "" at the cluster scope; pods are not indexed until it succeeds; retrying',
      },
    ]);
  });

  it('reports an unreachable API server as issues, not exceptions', async () => {
    const gone = await FakeApiServer.start();
    const url = gone.url;
    await gone.close();
    recorder = new SourceRecorder(url);
    const state = await recorder.nextState('the first state', () => true);
    expect(state.documents).toEqual([]);
    expect(state.issues.map((i) => i.severity)).toEqual([
      'error',
      'error',
      'warning',
      'error',
      'error',
      'error',
      'error',
      'error',
    ]);
    const port = new URL(url).port;
    expect(state.issues[0]?.message).toBe(
      `cannot list services in all namespaces: request to ${url}/api/v1/services?limit=500 failed, reason: connect ECONNREFUSED 127.0.0.1:${port}; no documents come from services until it succeeds; retrying`,
    );
  });

  it('pages lists with limit and continue', async () => {
    await serve();
    const source = await start({ listPageSize: 2 });
    expect(files(source.states[0])).toEqual(ALL_FILES);
    const pages = requests('list', 'services');
    expect(pages.map((r) => r.params['limit'])).toEqual(['2', '2', '2']);
    expect(pages[0]?.params['continue']).toBeUndefined();
    expect(pages[1]?.params['continue']).toEqual(expect.any(String));
    expect(requests('watch', 'services')[0]?.params['resourceVersion']).toBe('48213');
  });

  it('reads only the namespaces it is given', async () => {
    await serve();
    const source = await start({ namespaces: ['shop'] });
    expect(files(source.states[0])).toEqual(ALL_FILES.filter((f) => f.startsWith('k8s:shop/')));
    expect(new Set(server.requests.map((r) => r.namespace))).toEqual(new Set(['shop']));
    expect([...(source.states[0] as KubernetesSourceState).pods.byName.keys()]).toHaveLength(6);
  });

  it('emits for a pod readiness change but not for a pod update that leaves the index as it was', async () => {
    await serve();
    const source = await start();
    const pod = fixtureObject('pods', 'shop', 'catalog-6d5f7c9b8-rt5vw') as PodObject;
    pod.status.startTime = '2024-05-14T09:12:51Z';
    server.apply('pods', pod);
    for (const condition of pod.status.conditions) {
      if (condition.type === 'Ready') condition.status = 'True';
    }
    server.apply('pods', pod);
    const next = await source.nextState(
      'the pod ready',
      (s) => s.pods.byName.get('shop/catalog-6d5f7c9b8-rt5vw')?.ready === true,
      1,
    );
    expect(source.states).toEqual([source.states[0], next]);
  });

  it('closes every watch when unsubscribed', async () => {
    await serve();
    const source = await start();
    await until(
      'all watches open',
      () => server.requests.filter((r) => r.verb === 'watch').length === 8,
    );
    source.stop();
    await until('no watch open', () =>
      ['services', 'endpointslices', 'pods', ...CRDS].every((p) => server.openWatches(p) === 0),
    );
  });

  it('refuses a kubeconfig without a current cluster', () => {
    const empty = kubeConfigFor('http://127.0.0.1:1');
    empty.setCurrentContext('missing');
    expect(() => kubernetesSource({ kubeConfig: empty })).toThrow(
      new KubernetesSourceError(
        'TRL_K8S_NO_CLUSTER',
        'the kubeconfig has no current cluster (current context: "missing")',
      ),
    );
  });

  it('refuses invalid namespaces, page sizes and backoff options', () => {
    const kubeConfig = kubeConfigFor('http://127.0.0.1:1');
    expect(() => kubernetesSource({ kubeConfig, namespaces: ['Shop'] })).toThrow(
      new KubernetesSourceError(
        'TRL_K8S_INVALID_OPTION',
        'namespaces must be DNS labels (got "Shop")',
      ),
    );
    expect(() => kubernetesSource({ kubeConfig, namespaces: [] })).toThrow(KubernetesSourceError);
    expect(() => kubernetesSource({ kubeConfig, listPageSize: 0 })).toThrow(KubernetesSourceError);
    expect(() => kubernetesSource({ kubeConfig, relistBackoff: { initialMs: 0 } })).toThrow(
      KubernetesSourceError,
    );
  });
});
