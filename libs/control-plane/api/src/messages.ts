// The API's messages as @grpc/proto-loader hands them over with PROTO_LOADER_OPTIONS: field
// names as in the .proto, 64-bit integers as numbers, enums as their names, defaults filled in.
// Shared by the server here and the meshctl client so both sides agree on one shape.
import type { SyncState } from '@trellis/control-plane-delivery';

export type WireSyncState = SyncState | 'SYNC_STATE_UNSPECIFIED';

export interface IssueMessage {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly document: string;
  readonly path: string;
  readonly message: string;
  readonly file: string;
  /** 1-based; 0 when the issue has no position. */
  readonly line: number;
  readonly column: number;
  /** The issue on one line, as `meshctl validate` prints it. */
  readonly text: string;
}

export interface ProxyStatusMessage {
  readonly namespace: string;
  readonly pod: string;
  readonly service: string;
  readonly role: string;
  readonly state: WireSyncState;
  readonly version: number;
  readonly hash: string;
  /** RFC 3339. */
  readonly last_seen: string;
  /** 0 unless NACKED. */
  readonly nack_version: number;
  readonly nack_issues: readonly IssueMessage[];
  /** Absent until this replica saw the proxy ACK a version it saw arrive. */
  readonly push_to_ack_ms?: number;
  /** Only on WatchProxies: the proxy was forgotten. */
  readonly removed: boolean;
}

export interface ListProxiesRequest {
  /** '' for every namespace. */
  readonly namespace: string;
}

export interface ListProxiesResponse {
  readonly proxies: readonly ProxyStatusMessage[];
  /** 0 and '' while no config is stored. */
  readonly latest_version: number;
  readonly latest_hash: string;
}

export interface GetProxyConfigRequest {
  readonly namespace: string;
  readonly pod: string;
}

export interface GetProxyConfigResponse {
  readonly version: number;
  readonly hash: string;
  /** The stored snapshot's resources as a JSON array. */
  readonly resources_json: string;
  readonly proxy_version: number;
  readonly proxy_hash: string;
  /** The proxy holds exactly the stored snapshot. */
  readonly proxy_has_it: boolean;
  readonly proxy_state: WireSyncState;
}

export interface FileMessage {
  readonly name: string;
  readonly content: string;
}

export interface ValidateRequest {
  readonly files: readonly FileMessage[];
}

export interface ValidateResponse {
  readonly ok: boolean;
  readonly documents: number;
  /** Errors first, then warnings. */
  readonly issues: readonly IssueMessage[];
}

export type WatchRequest = Record<string, never>;
