// @trellis/control-plane-api: the control plane's gRPC API (trellis.v1.ControlPlane, defined in
// proto/trellis/v1/control_plane.proto) — its server over a replica's sync tracker and stored
// snapshot, and the service definition and message shapes a client needs.
export { issueMessage, proxyStatusMessage } from './convert.js';
export { ControlPlaneApiError } from './errors.js';
export type { ControlPlaneApiErrorCode } from './errors.js';
export type {
  FileMessage,
  GetProxyConfigRequest,
  GetProxyConfigResponse,
  IssueMessage,
  ListProxiesRequest,
  ListProxiesResponse,
  ProxyStatusMessage,
  ValidateRequest,
  ValidateResponse,
  WatchRequest,
  WireSyncState,
} from './messages.js';
export { PROTO_LOADER_OPTIONS, controlPlaneService } from './proto.js';
export { DEFAULT_CLOSE_GRACE_MS, startControlPlaneApi } from './server.js';
export type { ControlPlaneApi, ControlPlaneApiOptions } from './server.js';
export { validateFiles } from './validate-files.js';
