// gRPC status codes by name, and the gRPC spec's HTTP→gRPC mapping for responses that carry no
// grpc-status of their own. Kept here rather than imported from @grpc/grpc-js so this pure lib
// stays free of a transport dependency.

/** Canonical gRPC status codes (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** True for an integer that names a gRPC status (0–16). */
export function isGrpcStatusCode(value: number): value is GrpcStatusCode {
  return Number.isInteger(value) && value >= GrpcStatus.OK && value <= GrpcStatus.UNAUTHENTICATED;
}

/** The gRPC status a client derives from a bare HTTP status (grpc/doc/http-grpc-status-mapping.md). */
export function grpcStatusForHttp(httpStatus: number): GrpcStatusCode {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}
