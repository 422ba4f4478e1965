// @trellis/sidecar-admin: the admin endpoint (127.0.0.1:15000 by default).
export type { AdminEndpoints, AdminResponse, AdminRoute } from './admin-server.js';
export { createAdminServer } from './admin-server.js';
