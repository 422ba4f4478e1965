// What counts as a successful request in telemetry summaries, after Linkerd: the server did its
// job. A 4xx (or a client-caused gRPC status such as NOT_FOUND) is the caller's problem and a
// success of the server; a 5xx, a gRPC status in the server-error set, or a response body cut
// off by the upstream or the proxy is a failure. A client that went away is not a failure.
import type { CompletedRequest } from '@trellis/sidecar-proxy';

/**
 * gRPC statuses that are the server's fault: those whose canonical HTTP mapping
 * (google.rpc.Code) is a 5xx — UNKNOWN 2, DEADLINE_EXCEEDED 4, UNIMPLEMENTED 12, INTERNAL 13,
 * UNAVAILABLE 14, DATA_LOSS 15.
 */
export const GRPC_SERVER_ERROR_STATUSES: readonly string[] = ['2', '4', '12', '13', '14', '15'];

export function isSuccessful(
  status: number,
  grpcStatus: string | undefined,
  outcome: CompletedRequest['outcome'],
): boolean {
  if (status >= 500) return false;
  if (outcome === 'upstream-error' || outcome === 'internal-error') return false;
  return grpcStatus === undefined || !GRPC_SERVER_ERROR_STATUSES.includes(grpcStatus);
}
