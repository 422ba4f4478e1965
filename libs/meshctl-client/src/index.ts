// @trellis/meshctl-client: meshctl's side of the control plane's gRPC API — a typed client and
// the text rendering of proxy sync state.
export {
  ControlPlaneClient,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_CONTROL_PLANE_ADDRESS,
} from './control-plane-client.js';
export type { ControlPlaneClientOptions } from './control-plane-client.js';
export { ControlPlaneClientError } from './errors.js';
export type { ControlPlaneClientErrorCode } from './errors.js';
export { ago, renderProxyTable, shortHash } from './render-proxy-table.js';
