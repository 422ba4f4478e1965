// The watch request of one informer: @kubernetes/client-node's Watch plus what a long-running
// controller needs and ListWatch leaves out — bookmarks (so a re-watch after a dropped connection
// resumes from a recent resourceVersion instead of hitting 410), a server-side timeout with a
// client-side watchdog (a silently dead connection must not stall the informer forever), a
// "closed at once without events" check (a proxy that drops every watch must not cause a hot
// loop), ERROR events other than 410 turned into failures (ListWatch would re-watch at once,
// again and again, while etcd is unhealthy), and hooks that tell the reflector what happened.
import { Watch } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock, Timer } from '@trellis/time';
import { KubernetesSourceError } from './errors.js';

/** A watch that ends cleanly sooner than this without a single event counts as a failure. */
const SHORT_WATCH_MS = 1_000;
/** Server-side watch timeout: client-go's range, a random value in [5 min, 10 min). */
const MIN_WATCH_TIMEOUT_S = 300;
/** How long past its timeout a watch may stay open before the client gives up on it. */
const WATCHDOG_GRACE_S = 30;

export interface WatchHooks {
  readonly clock: Clock;
  readonly random: () => number;
  /** True once the reflector stopped: late watches are aborted at once. */
  readonly isStopped: () => boolean;
  /** A watch request starts: ListWatch has applied a complete list (or resumes after one). */
  readonly onStart: () => void;
  /** The API server answered 200: the watch is open. */
  readonly onOpen: () => void;
  /** The first event (object change or bookmark) arrived on this watch. */
  readonly onFirstEvent: () => void;
}

type EventCallback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;

/** The Kubernetes Status object an ERROR event carries. */
interface ErrorEventStatus {
  readonly code: number | undefined;
  readonly message: string | undefined;
}

function statusOf(object: unknown): ErrorEventStatus {
  const status = (typeof object === 'object' && object !== null ? object : {}) as Record<
    string,
    unknown
  >;
  return {
    code: typeof status['code'] === 'number' ? status['code'] : undefined,
    message: typeof status['message'] === 'string' ? status['message'] : undefined,
  };
}
type DoneCallback = (err: unknown) => void;

export class SupervisedWatch extends Watch {
  readonly #hooks: WatchHooks;

  constructor(kubeConfig: KubeConfig, hooks: WatchHooks) {
    super(kubeConfig);
    this.#hooks = hooks;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: EventCallback,
    done: DoneCallback,
  ): Promise<AbortController> {
    const { clock, random, isStopped, onStart, onOpen, onFirstEvent } = this.#hooks;
    onStart();
    const startedAt = clock.now();
    const timeoutSeconds = Math.floor(MIN_WATCH_TIMEOUT_S * (1 + random()));
    let events = 0;
    let errorEvent: ErrorEventStatus | undefined;
    let ended = false;
    let expired = false;
    let watchdog: Timer | undefined;

    const onEvent: EventCallback = (phase, apiObj, watchObj) => {
      if (phase === 'ERROR') {
        // The server ends the stream after it; ListWatch handles 410 (it relists), not the rest.
        errorEvent = statusOf(apiObj);
      } else {
        events += 1;
        if (events === 1) onFirstEvent();
      }
      callback(phase, apiObj, watchObj);
    };
    const onDone: DoneCallback = (err) => {
      ended = true;
      watchdog?.cancel();
      // The watchdog aborted a watch the server should have ended: resume like after a clean end.
      if (expired) return done(null);
      if (err !== null && err !== undefined) return done(err);
      if (errorEvent !== undefined && errorEvent.code !== 410) {
        const failure = new Error(errorEvent.message ?? 'ERROR event without a message');
        return done(
          errorEvent.code === undefined
            ? failure
            : Object.assign(failure, { statusCode: errorEvent.code }),
        );
      }
      const lasted = clock.now() - startedAt;
      if (errorEvent === undefined && events === 0 && lasted < SHORT_WATCH_MS) {
        return done(
          new KubernetesSourceError(
            'TRL_K8S_SHORT_WATCH',
            `watch of ${path} ended after ${Math.round(lasted)} ms without any event`,
          ),
        );
      }
      return done(null);
    };

    const controller = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true, timeoutSeconds },
      onEvent,
      onDone,
    );
    if (isStopped()) {
      // stop() came while the request was connecting, before ListWatch held the controller.
      controller.abort();
    } else if (!ended) {
      onOpen();
      watchdog = clock.setTimer((timeoutSeconds + WATCHDOG_GRACE_S) * 1000, () => {
        expired = true;
        controller.abort();
      });
    }
    return controller;
  }
}
