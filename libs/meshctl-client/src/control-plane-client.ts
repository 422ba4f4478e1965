// A typed client of trellis.v1.ControlPlane: promises for the unary calls, an async iterable for
// the watch, and gRPC failures turned into ControlPlaneClientError with a readable message.
import { connectivityState, credentials, status as grpcStatus } from '@grpc/grpc-js';
import type { Client, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { controlPlaneService } from '@trellis/control-plane-api';
import type {
  FileMessage,
  GetProxyConfigResponse,
  ListProxiesResponse,
  ProxyStatusMessage,
  ValidateResponse,
} from '@trellis/control-plane-api';
import { ControlPlaneClientError } from './errors.js';

export const DEFAULT_CONTROL_PLANE_ADDRESS = '127.0.0.1:15090';
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** A stored snapshot may be several MiB; gRPC's default cap is 4 MiB. */
const MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

export interface ControlPlaneClientOptions {
  /** Deadline of each unary call (default 10 s). */
  readonly timeoutMs?: number;
}

type Callback<T> = (error: ServiceError | null, value?: T) => void;
interface RawClient extends Client {
  ListProxies(request: object, options: object, callback: Callback<ListProxiesResponse>): void;
  GetProxyConfig(
    request: object,
    options: object,
    callback: Callback<GetProxyConfigResponse>,
  ): void;
  ValidateDocuments(request: object, options: object, callback: Callback<ValidateResponse>): void;
  WatchProxies(request: object): ClientReadableStream<ProxyStatusMessage>;
}

const codes: Partial<Record<number, ControlPlaneClientError['code']>> = {
  [grpcStatus.NOT_FOUND]: 'TRL_CLIENT_NOT_FOUND',
  [grpcStatus.INVALID_ARGUMENT]: 'TRL_CLIENT_INVALID_ARGUMENT',
  [grpcStatus.UNAVAILABLE]: 'TRL_CLIENT_UNAVAILABLE',
};

/** gRPC's "No connection established. Last error: Error: connect ECONNREFUSED …" → the cause. */
function connectionReason(details: string): string {
  const match = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/s.exec(details);
  return match?.[1] || details;
}

export class ControlPlaneClient {
  readonly address: string;
  readonly #client: RawClient;
  readonly #timeoutMs: number;

  constructor(address: string, options: ControlPlaneClientOptions = {}) {
    this.address = address;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const Ctor = controlPlaneService();
    this.#client = new Ctor(address, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
    }) as unknown as RawClient;
  }

  listProxies(namespace = ''): Promise<ListProxiesResponse> {
    return this.#unary((o, cb) => this.#client.ListProxies({ namespace }, o, cb));
  }

  getProxyConfig(namespace: string, pod: string): Promise<GetProxyConfigResponse> {
    return this.#unary((o, cb) => this.#client.GetProxyConfig({ namespace, pod }, o, cb));
  }

  validateDocuments(files: readonly FileMessage[]): Promise<ValidateResponse> {
    return this.#unary((o, cb) => this.#client.ValidateDocuments({ files }, o, cb));
  }

  /** The current proxies, then every change, until the loop stops or the server ends it. */
  async *watchProxies(): AsyncGenerator<ProxyStatusMessage> {
    const stream = this.#client.WatchProxies({});
    try {
      for await (const message of stream) yield message as ProxyStatusMessage;
    } catch (error) {
      if ((error as ServiceError).code === grpcStatus.CANCELLED) return;
      throw this.#translate(error as ServiceError);
    } finally {
      stream.cancel();
    }
  }

  close(): void {
    this.#client.close();
  }

  #unary<T>(send: (options: object, callback: Callback<T>) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      send({ deadline: Date.now() + this.#timeoutMs }, (error, value) => {
        if (error) reject(this.#translate(error));
        else resolve(value as T);
      });
    });
  }

  #translate(error: ServiceError): ControlPlaneClientError {
    // UNAVAILABLE or a deadline without a live connection means the server was never reached;
    // the server's own UNAVAILABLE (no config yet) comes over a READY channel.
    const connected =
      this.#client.getChannel().getConnectivityState(false) === connectivityState.READY;
    if (
      !connected &&
      (error.code === grpcStatus.UNAVAILABLE || error.code === grpcStatus.DEADLINE_EXCEEDED)
    ) {
      return new ControlPlaneClientError(
        'TRL_CLIENT_UNREACHABLE',
        `cannot reach the control plane at ${this.address}: ${connectionReason(error.details)}`,
        error.code,
      );
    }
    return new ControlPlaneClientError(
      codes[error.code] ?? 'TRL_CLIENT_FAILED',
      error.details || error.message,
      error.code,
    );
  }
}
