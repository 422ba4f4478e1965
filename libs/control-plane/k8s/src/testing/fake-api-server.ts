// A fake kube-apiserver for the source's tests, on 127.0.0.1:0. It serves what the source uses
// the way kube-apiserver does: list responses (items without kind/apiVersion for built-in types,
// `limit`/`continue` paging) and chunked watch streams of `{"type":…,"object":…}` lines with
// resourceVersion semantics (replay after the given version, 410 Expired once it is compacted,
// BOOKMARK events when allowWatchBookmarks=true), Status bodies for errors; and hooks that make it
// fail the way a real one does (RBAC 403, 500s, CRD not installed, dropped and expired watches).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface KubeList {
  readonly items: readonly KubeObject[];
  readonly metadata?: { readonly resourceVersion?: string };
}

interface Collection {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  /** The object key → object. */
  readonly objects: Map<string, KubeObject>;
  served: boolean;
  readonly failures: { list: number[]; watch: number[] };
  /** While set, list requests wait for it (a slow list). */
  held: Promise<void> | undefined;
}

interface HistoryEvent {
  readonly rv: number;
  readonly plural: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObject;
}

interface Watcher {
  readonly plural: string;
  readonly namespace: string | undefined;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
  readonly timer: NodeJS.Timeout | undefined;
}

export interface RecordedRequest {
  readonly verb: 'list' | 'watch';
  readonly plural: string;
  readonly namespace: string | undefined;
  readonly params: Readonly<Record<string, string>>;
  readonly status: number;
}

export interface MutationOptions {
  /** false: the change is stored and kept in the history, but not sent to open watches. */
  readonly deliver?: boolean;
}

const SERVED: readonly (readonly [string, string, string, string])[] = [
  ['', 'v1', 'services', 'Service'],
  ['', 'v1', 'pods', 'Pod'],
  ['discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'],
  ['trellis.dev', 'v1alpha1', 'routes', 'Route'],
  ['trellis.dev', 'v1alpha1', 'destinationpolicies', 'DestinationPolicy'],
  ['trellis.dev', 'v1alpha1', 'ratelimits', 'RateLimit'],
  ['trellis.dev', 'v1alpha1', 'retrybudgets', 'RetryBudget'],
  ['trellis.dev', 'v1alpha1', 'telemetries', 'Telemetry'],
];

const SERVICE_ACCOUNT = 'system:serviceaccount:trellis-system:trellis-control-plane';

export class FakeApiServer {
  readonly #server: Server;
  readonly #collections = new Map<string, Collection>();
  readonly #watchers = new Set<Watcher>();
  readonly #requests: RecordedRequest[] = [];
  readonly #waiting = new Map<string, number>();
  #history: HistoryEvent[] = [];
  #rv = 1;
  #compactedRv = 0;

  private constructor() {
    for (const [group, version, plural, kind] of SERVED) {
      this.#collections.set(plural, {
        group,
        version,
        plural,
        kind,
        objects: new Map(),
        served: true,
        failures: { list: [], watch: [] },
        held: undefined,
      });
    }
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(): Promise<FakeApiServer> {
    const fake = new FakeApiServer();
    await new Promise<void>((resolve, reject) => {
      fake.#server.once('error', reject);
      fake.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The current resourceVersion (etcd revision), as the server writes it. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Every list and watch request so far, in arrival order. */
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** Seeds a collection with recorded objects, keeping their resourceVersions. */
  load(plural: string, list: KubeList): void {
    const collection = this.#collection(plural);
    for (const item of list.items) {
      const object = this.#typed(collection, structuredClone(item));
      collection.objects.set(keyOf(object), object);
      this.#rv = Math.max(this.#rv, Number(object.metadata.resourceVersion ?? 0));
    }
    this.#rv = Math.max(this.#rv, Number(list.metadata?.resourceVersion ?? 0));
  }

  /** Creates or replaces an object (ADDED or MODIFIED); returns its new resourceVersion. */
  apply(plural: string, object: KubeObject, options: MutationOptions = {}): string {
    const collection = this.#collection(plural);
    const stored = this.#typed(collection, structuredClone(object));
    const type = collection.objects.has(keyOf(stored)) ? 'MODIFIED' : 'ADDED';
    stored.metadata.resourceVersion = String(++this.#rv);
    collection.objects.set(keyOf(stored), stored);
    this.#record({ rv: this.#rv, plural, type, object: stored }, options);
    return stored.metadata.resourceVersion;
  }

  /** Deletes an object (DELETED with its last state); returns the deletion's resourceVersion. */
  remove(plural: string, namespace: string, name: string, options: MutationOptions = {}): string {
    const collection = this.#collection(plural);
    const stored = collection.objects.get(`${namespace}/${name}`);
    if (stored === undefined) throw new Error(`no ${plural} ${namespace}/${name} to delete`);
    collection.objects.delete(keyOf(stored));
    const object = structuredClone(stored);
    object.metadata.resourceVersion = String(++this.#rv);
    this.#record({ rv: this.#rv, plural, type: 'DELETED', object }, options);
    return object.metadata.resourceVersion;
  }

  /** Like etcd compaction: watches from any older resourceVersion now get 410 Expired. */
  compact(): void {
    this.#compactedRv = this.#rv;
    this.#history = [];
  }

  /** Sends a BOOKMARK at the current resourceVersion to the open watches that asked for them. */
  bookmark(plural: string): void {
    const collection = this.#collection(plural);
    for (const watcher of this.#watchersOf(plural)) {
      if (!watcher.bookmarks) continue;
      const object = {
        kind: collection.kind,
        apiVersion: apiVersionOf(collection),
        metadata: { resourceVersion: String(this.#rv), creationTimestamp: null },
      };
      watcher.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
    }
  }

  /** Ends the open watch streams cleanly, as an API server restart or a timeout does. */
  dropWatches(plural: string): number {
    const watchers = this.#watchersOf(plural);
    for (const watcher of watchers) this.#endWatch(watcher);
    return watchers.length;
  }

  /** Sends the open watches the ERROR event a watch cache sends when it is too far behind. */
  expireWatches(plural: string, reason: 'Expired' | 'Gone' = 'Expired'): number {
    const watchers = this.#watchersOf(plural);
    for (const watcher of watchers) {
      const object = status(410, reason, `too old resource version: ${this.#compactedRv}`);
      watcher.res.write(`${JSON.stringify({ type: 'ERROR', object })}\n`);
      this.#endWatch(watcher);
    }
    return watchers.length;
  }

  /** Sends the open watches an ERROR event with the Status of that code, then ends them. */
  failWatches(plural: string, code: number): number {
    const collection = this.#collection(plural);
    const watchers = this.#watchersOf(plural);
    for (const watcher of watchers) {
      const object = failureStatus(code, 'watch', collection, watcher.namespace);
      watcher.res.write(`${JSON.stringify({ type: 'ERROR', object })}\n`);
      this.#endWatch(watcher);
    }
    return watchers.length;
  }

  /** false: the group/version/plural is not served (CRD not installed): every request is 404. */
  setServed(plural: string, served: boolean): void {
    this.#collection(plural).served = served;
  }

  /** The next `times` requests of that verb answer with this HTTP status and a Status body. */
  failNext(plural: string, verb: 'list' | 'watch', code: number, times = 1): void {
    this.#collection(plural).failures[verb].push(...Array<number>(times).fill(code));
  }

  /** Holds list requests of a collection (a slow list) until the returned function is called. */
  holdLists(plural: string): () => void {
    const collection = this.#collection(plural);
    let release = () => {};
    collection.held = new Promise<void>((resolve) => {
      release = () => {
        collection.held = undefined;
        resolve();
      };
    });
    return release;
  }

  /** List requests of a collection that arrived but were not answered yet. */
  heldLists(plural: string): number {
    return this.#waiting.get(plural) ?? 0;
  }

  /** Open watch streams of a collection. */
  openWatches(plural: string): number {
    return this.#watchersOf(plural).length;
  }

  async close(): Promise<void> {
    for (const watcher of [...this.#watchers]) this.#endWatch(watcher);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #collection(plural: string): Collection {
    const collection = this.#collections.get(plural);
    if (collection === undefined) throw new Error(`the fake API server serves no ${plural}`);
    return collection;
  }

  #typed(collection: Collection, object: KubeObject): KubeObject {
    return { apiVersion: apiVersionOf(collection), kind: collection.kind, ...object };
  }

  #watchersOf(plural: string): Watcher[] {
    return [...this.#watchers].filter((w) => w.plural === plural);
  }

  #record(event: HistoryEvent, options: MutationOptions): void {
    this.#history.push(event);
    if (options.deliver === false) return;
    for (const watcher of this.#watchersOf(event.plural)) {
      if (watcher.namespace !== undefined && watcher.namespace !== event.object.metadata.namespace)
        continue;
      watcher.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    }
  }

  #endWatch(watcher: Watcher): void {
    this.#watchers.delete(watcher);
    clearTimeout(watcher.timer);
    watcher.res.end();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = parsePath(url.pathname);
    const params = Object.fromEntries(url.searchParams);
    const collection = route && this.#collections.get(route.plural);
    const verb = params['watch'] === 'true' || params['watch'] === '1' ? 'watch' : 'list';
    const respond = (code: number, body: unknown) => {
      this.#requests.push({
        verb,
        plural: route?.plural ?? url.pathname,
        namespace: route?.namespace,
        params,
        status: code,
      });
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (
      req.method !== 'GET' ||
      route === undefined ||
      collection === undefined ||
      collection.group !== route.group ||
      collection.version !== route.version ||
      !collection.served
    ) {
      respond(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const failure = collection.failures[verb].shift();
    if (failure !== undefined) {
      respond(failure, failureStatus(failure, verb, collection, route.namespace));
      return;
    }
    if (verb === 'watch') {
      this.#watch(collection, route.namespace, params, res);
    } else if (collection.held === undefined) {
      this.#list(collection, route.namespace, params, respond);
    } else {
      const plural = collection.plural;
      this.#waiting.set(plural, (this.#waiting.get(plural) ?? 0) + 1);
      void collection.held.then(() => {
        this.#waiting.set(plural, (this.#waiting.get(plural) ?? 1) - 1);
        this.#list(collection, route.namespace, params, respond);
      });
    }
  }

  #list(
    collection: Collection,
    namespace: string | undefined,
    params: Record<string, string>,
    respond: (code: number, body: unknown) => void,
  ): void {
    const all = [...collection.objects.values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    let offset = 0;
    let rv = this.#rv;
    const token = params['continue'];
    if (token !== undefined && token !== '') {
      const parsed = JSON.parse(Buffer.from(token, 'base64url').toString()) as {
        rv: number;
        offset: number;
      };
      // Pages come from the current objects, so they are only consistent while nothing changed.
      const changed = this.#history.some((e) => e.plural === collection.plural && e.rv > parsed.rv);
      if (parsed.rv < this.#compactedRv || changed) {
        respond(
          410,
          status(
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          ),
        );
        return;
      }
      offset = parsed.offset;
      rv = parsed.rv;
    }
    const limit = params['limit'] === undefined ? Infinity : Number(params['limit']);
    const page = all.slice(offset, offset + limit);
    const next = offset + page.length;
    const builtIn = collection.group === '' || collection.group.endsWith('.k8s.io');
    respond(200, {
      kind: `${collection.kind}List`,
      apiVersion: apiVersionOf(collection),
      metadata: {
        resourceVersion: String(rv),
        ...(next < all.length
          ? {
              continue: Buffer.from(JSON.stringify({ rv, offset: next })).toString('base64url'),
              remainingItemCount: all.length - next,
            }
          : {}),
      },
      // kube-apiserver leaves kind and apiVersion out of built-in list items; custom ones keep them.
      items: page.map((o) => {
        if (!builtIn) return o;
        const { kind: _kind, apiVersion: _apiVersion, ...rest } = o;
        return rest;
      }),
    });
  }

  #watch(
    collection: Collection,
    namespace: string | undefined,
    params: Record<string, string>,
    res: ServerResponse,
  ): void {
    this.#requests.push({
      verb: 'watch',
      plural: collection.plural,
      namespace,
      params,
      status: 200,
    });
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const send = (type: string, object: unknown) =>
      res.write(`${JSON.stringify({ type, object })}\n`);
    const inScope = (o: KubeObject) =>
      namespace === undefined || o.metadata.namespace === namespace;
    const from = params['resourceVersion'] ?? '';
    if (from === '' || from === '0') {
      // No version: "start at most recent", i.e. synthetic ADDED events for what exists now.
      for (const object of collection.objects.values()) if (inScope(object)) send('ADDED', object);
    } else if (Number(from) < this.#compactedRv) {
      send(
        'ERROR',
        status(410, 'Expired', `too old resource version: ${from} (${this.#compactedRv})`),
      );
      res.end();
      return;
    } else {
      for (const event of this.#history) {
        if (event.plural === collection.plural && event.rv > Number(from) && inScope(event.object))
          send(event.type, event.object);
      }
    }
    const seconds = Number(params['timeoutSeconds'] ?? 0);
    const watcher: Watcher = {
      plural: collection.plural,
      namespace,
      bookmarks: params['allowWatchBookmarks'] === 'true',
      res,
      timer: seconds > 0 ? setTimeout(() => this.#endWatch(watcher), seconds * 1000) : undefined,
    };
    watcher.timer?.unref();
    this.#watchers.add(watcher);
    res.on('close', () => {
      this.#watchers.delete(watcher);
      clearTimeout(watcher.timer);
    });
  }
}

function parsePath(
  path: string,
): { group: string; version: string; namespace: string | undefined; plural: string } | undefined {
  const core = /^\/api\/(v1)(?:\/namespaces\/([^/]+))?\/([^/]+)$/.exec(path);
  if (core) return { group: '', version: core[1] ?? '', namespace: core[2], plural: core[3] ?? '' };
  const named = /^\/apis\/([^/]+)\/([^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)$/.exec(path);
  if (named) {
    return {
      group: named[1] ?? '',
      version: named[2] ?? '',
      namespace: named[3],
      plural: named[4] ?? '',
    };
  }
  return undefined;
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function apiVersionOf(collection: Collection): string {
  return collection.group === '' ? collection.version : `${collection.group}/${collection.version}`;
}

function status(code: number, reason: string, message: string, details?: object): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

/** The Status kube-apiserver answers with for the failures the tests inject. */
function failureStatus(
  code: number,
  verb: 'list' | 'watch',
  collection: Collection,
  namespace: string | undefined,
): object {
  switch (code) {
    case 403: {
      const scope =
        namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
      return status(
        403,
        'Forbidden',
        `${collection.plural}${collection.group === '' ? '' : `.${collection.group}`} is forbidden: User "${SERVICE_ACCOUNT}" cannot ${verb} resource "${collection.plural}" in API group "${collection.group}" ${scope}`,
        { group: collection.group || undefined, kind: collection.plural },
      );
    }
    case 410:
      return status(410, 'Expired', 'too old resource version');
    case 429:
      return status(429, 'TooManyRequests', 'Too many requests, please try again later.', {
        retryAfterSeconds: 1,
      });
    case 500:
      return status(
        500,
        'InternalError',
        'Internal error occurred: etcdserver: request timed out',
        {
          causes: [{ message: 'etcdserver: request timed out' }],
        },
      );
    case 503:
      return status(
        503,
        'ServiceUnavailable',
        'the server is currently unable to handle the request',
      );
    default:
      return status(code, 'Unknown', `injected failure ${code}`);
  }
}
