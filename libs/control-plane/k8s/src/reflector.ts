// One informer (list + watch of one resource in one scope) kept alive: @kubernetes/client-node's
// ListWatch does list, watch from the list's resourceVersion, relist on 410 Gone and resume after a
// watch ends; this supervisor restarts it after every failure with exponential backoff, pages the
// list, bounds it in time, and tracks whether the cache is synced and what the last failure was.
import { ListWatch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Clock, Timer } from '@trellis/time';
import { describeFailure } from './api-failure.js';
import type { ApiFailure } from './api-failure.js';
import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { KubernetesSourceError } from './errors.js';
import type { Lister } from './lister.js';
import { SupervisedWatch } from './supervised-watch.js';
import { collectionPath, resourceName, scopeName } from './watched-resources.js';
import type { WatchedResource } from './watched-resources.js';

/** A list request (all pages together) without an answer after this long is abandoned. */
const LIST_TIMEOUT_MS = 60_000;

export type ObjectChange = 'add' | 'update' | 'delete';

export interface ReflectorLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface ReflectorFailure {
  readonly phase: 'list' | 'watch';
  readonly failure: ApiFailure;
}

export interface ReflectorOptions {
  readonly resource: WatchedResource;
  /** undefined: all namespaces. */
  readonly namespace: string | undefined;
  readonly kubeConfig: KubeConfig;
  readonly lister: Lister;
  readonly clock: Clock;
  readonly logger: ReflectorLogger;
  readonly backoff: BackoffOptions;
  readonly pageSize: number;
  /** Something the state depends on changed (objects, sync or failure status). */
  readonly onChange: () => void;
  /**
   * Sees each object change first; returning false means the change does not alter the state
   * (e.g. a Pod status update that leaves its index entry as it was).
   */
  readonly filter?: (change: ObjectChange, object: KubernetesObject) => boolean;
}

export class Reflector {
  readonly resource: WatchedResource;
  readonly namespace: string | undefined;
  readonly #options: ReflectorOptions;
  readonly #backoff: Backoff;
  readonly #informer: ListWatch<KubernetesObject>;
  #stopped = true;
  #synced = false;
  #phase: 'list' | 'watch' = 'list';
  #failure: ReflectorFailure | undefined;
  #restart: Timer | undefined;

  constructor(options: ReflectorOptions) {
    this.#options = options;
    this.resource = options.resource;
    this.namespace = options.namespace;
    this.#backoff = new Backoff(options.backoff);
    const watch = new SupervisedWatch(options.kubeConfig, {
      clock: options.clock,
      random: options.backoff.random ?? Math.random,
      isStopped: () => this.#stopped,
      onStart: () => this.#watchStarting(),
      onOpen: () => this.#recovered(),
      onFirstEvent: () => this.#backoff.reset(),
    });
    this.#informer = new ListWatch<KubernetesObject>(
      collectionPath(options.resource, options.namespace),
      watch,
      () => this.#list(),
      false,
    );
    for (const change of ['add', 'update', 'delete'] as const) {
      this.#informer.on(change, (object) => {
        if (this.#stopped) return;
        if (options.filter === undefined || options.filter(change, object)) options.onChange();
      });
    }
    this.#informer.on('error', (error: unknown) => this.#failed(error));
  }

  /** True once a complete list has been applied to the cache. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The last failure, until a list succeeds or a watch opens again. */
  get failure(): ReflectorFailure | undefined {
    return this.#failure;
  }

  /** The cached objects (the last list plus the watch events since). */
  objects(): readonly KubernetesObject[] {
    return this.#informer.list();
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#restart?.cancel();
    this.#restart = undefined;
    void this.#informer.stop();
  }

  #run(): void {
    this.#informer.start().catch((error: unknown) => this.#failed(error));
  }

  /** Every page of a list, as ListWatch expects one list; the first page's resourceVersion. */
  async #list(): Promise<KubernetesListObject<KubernetesObject>> {
    this.#phase = 'list';
    const { lister, resource, namespace, pageSize, clock } = this.#options;
    const items: KubernetesObject[] = [];
    let resourceVersion: string | undefined;
    let continueToken: string | undefined;
    let timeout: Timer | undefined;
    const expired = new Promise<never>((_, reject) => {
      timeout = clock.setTimer(LIST_TIMEOUT_MS, () =>
        reject(
          new KubernetesSourceError(
            'TRL_K8S_LIST_TIMEOUT',
            `no answer to the list of ${resourceName(resource)} ${scopeName(namespace)} within ${LIST_TIMEOUT_MS / 1000} s`,
          ),
        ),
      );
    });
    try {
      do {
        const page = await Promise.race([
          lister(resource, { namespace, limit: pageSize, continueToken }),
          expired,
        ]);
        items.push(...page.items);
        resourceVersion ??= page.resourceVersion;
        continueToken = page.continueToken;
      } while (continueToken !== undefined && !this.#stopped);
    } finally {
      timeout?.cancel();
    }
    if (this.#stopped) {
      // ListWatch would go on to open a watch nobody stops: fail the round instead.
      throw new KubernetesSourceError('TRL_K8S_STOPPED', 'stopped during the list');
    }
    this.#backoff.reset();
    return { metadata: { resourceVersion }, items };
  }

  /** ListWatch calls watch() right after applying a list, or to resume after one. */
  #watchStarting(): void {
    const afterList = this.#phase === 'list';
    this.#phase = 'watch';
    if (!this.#synced) {
      this.#synced = true;
      this.#options.onChange();
    }
    // A list just succeeded: whatever failed before is over (a plain re-watch proves nothing yet).
    if (afterList) this.#recovered();
  }

  #recovered(): void {
    if (this.#failure === undefined || this.#stopped) return;
    this.#options.logger.info(
      { resource: resourceName(this.resource), namespace: this.namespace },
      `${resourceName(this.resource)} ${scopeName(this.namespace)}: recovered`,
    );
    this.#failure = undefined;
    this.#options.onChange();
  }

  #failed(error: unknown): void {
    if (this.#stopped) return;
    const delayMs = this.#backoff.next();
    const fields = {
      resource: resourceName(this.resource),
      namespace: this.namespace,
      phase: this.#phase,
      retryInMs: delayMs,
    };
    if (error instanceof KubernetesSourceError && error.code === 'TRL_K8S_SHORT_WATCH') {
      // Not a failure of the API: the connection was cut. Retry later, keep the state as it is.
      this.#options.logger.warn(fields, error.message);
    } else {
      const failure = describeFailure(error);
      this.#options.logger.warn(
        { ...fields, status: failure.status },
        `${this.#phase} of ${resourceName(this.resource)} ${scopeName(this.namespace)} failed: ${failure.text}`,
      );
      const previous = this.#failure;
      this.#failure = { phase: this.#phase, failure };
      // The same failure again (every retry while the server is down) changes nothing.
      if (
        previous?.phase !== this.#failure.phase ||
        previous.failure.text !== failure.text ||
        previous.failure.status !== failure.status
      ) {
        this.#options.onChange();
      }
    }
    this.#restart?.cancel();
    this.#restart = this.#options.clock.setTimer(delayMs, () => {
      this.#restart = undefined;
      if (!this.#stopped) this.#run();
    });
  }
}
