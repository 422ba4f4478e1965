// The gRPC server of trellis.v1.ControlPlane over one replica's sync tracker and stored
// snapshot. Read-only: it answers from what the replica already holds and never writes config.
import { Server, ServerCredentials, status as grpcStatus } from '@grpc/grpc-js';
import type {
  ServerErrorResponse,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
  sendUnaryData,
} from '@grpc/grpc-js';
import type { Snapshot } from '@trellis/config';
import type { DeliveryLogger, SyncTracker } from '@trellis/control-plane-delivery';
import { systemClock } from '@trellis/time';
import type { Clock } from '@trellis/time';
import { proxyStatusMessage } from './convert.js';
import { ControlPlaneApiError } from './errors.js';
import type {
  GetProxyConfigRequest,
  GetProxyConfigResponse,
  ListProxiesRequest,
  ListProxiesResponse,
  ProxyStatusMessage,
  ValidateRequest,
  ValidateResponse,
  WatchRequest,
} from './messages.js';
import { controlPlaneService } from './proto.js';
import { validateFiles } from './validate-files.js';

export const DEFAULT_CLOSE_GRACE_MS = 2_000;

export interface ControlPlaneApiOptions {
  /** `HOST:PORT` (`[IPv6]:PORT`); port 0 picks a free one. */
  readonly address: string;
  readonly tracker: SyncTracker;
  /** The stored snapshot in force, undefined while none is stored. */
  readonly latest: () => Snapshot | undefined;
  readonly log: DeliveryLogger;
  /** Epoch ms, for `last_seen` (default Date.now). */
  readonly wallClock?: () => number;
  /** Times the close grace (default the system clock). */
  readonly clock?: Clock;
  /** Calls still running this long after close() are cancelled (default 2 s). */
  readonly closeGraceMs?: number;
}

export interface ControlPlaneApi {
  /** The port bound (the chosen one when the address asked for 0). */
  readonly port: number;
  /** Ends every watch, lets running calls finish within the grace, then stops. */
  close(): Promise<void>;
}

/** A request the API refuses, with the gRPC status to answer. */
class RpcFailure extends Error implements ServerErrorResponse {
  constructor(
    readonly code: grpcStatus,
    readonly details: string,
  ) {
    super(details);
  }
}

function failure(code: grpcStatus, details: string): RpcFailure {
  return new RpcFailure(code, details);
}

/** Runs a unary handler, turning a throw into INTERNAL (logged) instead of a crash. */
function unary<Req, Res>(
  log: DeliveryLogger,
  method: string,
  handle: (request: Req) => Res,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    let response: Res;
    try {
      response = handle(call.request);
    } catch (error) {
      if (error instanceof RpcFailure) {
        callback(error);
        return;
      }
      log.error({ err: error, method }, 'control plane API call failed');
      callback(failure(grpcStatus.INTERNAL, `${method} failed: ${(error as Error).message}`));
      return;
    }
    callback(null, response);
  };
}

export async function startControlPlaneApi(
  options: ControlPlaneApiOptions,
): Promise<ControlPlaneApi> {
  const { tracker, latest, log } = options;
  const wallClock = options.wallClock ?? Date.now;
  const clock = options.clock ?? systemClock;
  const watches = new Set<ServerWritableStream<WatchRequest, ProxyStatusMessage>>();

  const listProxies = ({ namespace }: ListProxiesRequest): ListProxiesResponse => {
    const now = wallClock();
    const snapshot = latest();
    return {
      proxies: tracker
        .list()
        .filter((view) => namespace === '' || view.identity.namespace === namespace)
        .map((view) => proxyStatusMessage(view, now)),
      latest_version: snapshot?.version ?? 0,
      latest_hash: snapshot?.hash ?? '',
    };
  };

  const getProxyConfig = ({ namespace, pod }: GetProxyConfigRequest): GetProxyConfigResponse => {
    if (namespace === '' || pod === '') {
      throw failure(grpcStatus.INVALID_ARGUMENT, 'namespace and pod are both required');
    }
    const view = tracker.get(namespace, pod);
    if (!view) {
      throw failure(
        grpcStatus.NOT_FOUND,
        `proxy ${namespace}/${pod} is not known to this control plane`,
      );
    }
    const snapshot = latest();
    if (!snapshot) throw failure(grpcStatus.UNAVAILABLE, 'no config is stored yet');
    return {
      version: snapshot.version,
      hash: snapshot.hash,
      resources_json: JSON.stringify(snapshot.resources),
      proxy_version: view.version,
      proxy_hash: view.hash,
      proxy_has_it: view.version === snapshot.version && view.hash === snapshot.hash,
      proxy_state: view.state,
    };
  };

  const validateDocuments = ({ files }: ValidateRequest): ValidateResponse => {
    if (files.length === 0) throw failure(grpcStatus.INVALID_ARGUMENT, 'give at least one file');
    const names = new Set<string>();
    for (const { name } of files) {
      if (name === '') throw failure(grpcStatus.INVALID_ARGUMENT, 'every file needs a name');
      if (names.has(name)) {
        throw failure(grpcStatus.INVALID_ARGUMENT, `file name "${name}" is given twice`);
      }
      names.add(name);
    }
    return validateFiles(files);
  };

  const watchProxies = (call: ServerWritableStream<WatchRequest, ProxyStatusMessage>): void => {
    watches.add(call);
    // The current state first, then changes: both in one synchronous step, so none is missed.
    const now = wallClock();
    for (const view of tracker.list()) call.write(proxyStatusMessage(view, now));
    const subscription = tracker.changes.subscribe({
      next(change) {
        if (change.kind === 'updated') {
          call.write(proxyStatusMessage(change.proxy, wallClock()));
        } else {
          call.write({
            namespace: change.identity.namespace,
            pod: change.identity.pod,
            service: change.identity.service,
            role: change.identity.role,
            state: 'DISCONNECTED',
            version: 0,
            hash: '',
            last_seen: '',
            nack_version: 0,
            nack_issues: [],
            removed: true,
          });
        }
      },
      complete: () => call.end(),
    });
    const stop = () => {
      subscription.unsubscribe();
      watches.delete(call);
    };
    call.once('cancelled', stop);
    call.once('finish', stop);
    call.once('error', stop);
  };

  const implementation: UntypedServiceImplementation = {
    ListProxies: unary(log, 'ListProxies', listProxies),
    GetProxyConfig: unary(log, 'GetProxyConfig', getProxyConfig),
    ValidateDocuments: unary(log, 'ValidateDocuments', validateDocuments),
    WatchProxies: watchProxies,
  };

  const server = new Server();
  server.addService(controlPlaneService().service, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.address, ServerCredentials.createInsecure(), (error, bound) => {
      if (error) {
        reject(
          new ControlPlaneApiError(
            'TRL_API_LISTEN',
            `cannot listen on ${options.address}: ${error.message}`,
            { cause: error },
          ),
        );
      } else resolve(bound);
    });
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const call of watches) call.end();
      watches.clear();
      const grace = clock.setTimer(options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS, () =>
        server.forceShutdown(),
      );
      server.tryShutdown(() => {
        grace.cancel();
        resolve();
      });
    });
    return closing;
  };
  return { port, close };
}
