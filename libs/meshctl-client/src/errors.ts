// Typed errors of the meshctl gRPC client, one code per way a call can fail.
export type ControlPlaneClientErrorCode =
  /** No connection to the control plane could be made. */
  | 'TRL_CLIENT_UNREACHABLE'
  | 'TRL_CLIENT_NOT_FOUND'
  | 'TRL_CLIENT_INVALID_ARGUMENT'
  /** The control plane answered but cannot serve the request yet (e.g. no config stored). */
  | 'TRL_CLIENT_UNAVAILABLE'
  | 'TRL_CLIENT_FAILED';

export class ControlPlaneClientError extends Error {
  constructor(
    readonly code: ControlPlaneClientErrorCode,
    message: string,
    /** The gRPC status code. */
    readonly grpcCode: number,
  ) {
    super(message);
    this.name = 'ControlPlaneClientError';
  }
}
