// Typed errors of the API server's lifecycle (request errors travel as gRPC status codes).
export type ControlPlaneApiErrorCode = 'TRL_API_LISTEN';

export class ControlPlaneApiError extends Error {
  constructor(
    readonly code: ControlPlaneApiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ControlPlaneApiError';
  }
}
