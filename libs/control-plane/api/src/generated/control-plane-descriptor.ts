// Generated from proto/trellis/v1/control_plane.proto by scripts/generate.ts: do not edit.
export const CONTROL_PLANE_DESCRIPTOR = {
  nested: {
    trellis: {
      nested: {
        v1: {
          nested: {
            ControlPlane: {
              methods: {
                ListProxies: {
                  requestType: 'ListProxiesRequest',
                  responseType: 'ListProxiesResponse',
                },
                GetProxyConfig: {
                  requestType: 'GetProxyConfigRequest',
                  responseType: 'GetProxyConfigResponse',
                },
                ValidateDocuments: {
                  requestType: 'ValidateRequest',
                  responseType: 'ValidateResponse',
                },
                WatchProxies: {
                  requestType: 'WatchRequest',
                  responseType: 'ProxyStatus',
                  responseStream: true,
                },
              },
            },
            SyncState: {
              values: {
                SYNC_STATE_UNSPECIFIED: 0,
                SYNCED: 1,
                STALE: 2,
                NACKED: 3,
                DISCONNECTED: 4,
              },
            },
            Issue: {
              fields: {
                severity: { type: 'string', id: 1 },
                code: { type: 'string', id: 2 },
                document: { type: 'string', id: 3 },
                path: { type: 'string', id: 4 },
                message: { type: 'string', id: 5 },
                file: { type: 'string', id: 6 },
                line: { type: 'uint32', id: 7 },
                column: { type: 'uint32', id: 8 },
                text: { type: 'string', id: 9 },
              },
            },
            ProxyStatus: {
              oneofs: { _push_to_ack_ms: { oneof: ['push_to_ack_ms'] } },
              fields: {
                namespace: { type: 'string', id: 1 },
                pod: { type: 'string', id: 2 },
                service: { type: 'string', id: 3 },
                role: { type: 'string', id: 4 },
                state: { type: 'SyncState', id: 5 },
                version: { type: 'uint64', id: 6 },
                hash: { type: 'string', id: 7 },
                last_seen: { type: 'string', id: 8 },
                nack_version: { type: 'uint64', id: 9 },
                nack_issues: { rule: 'repeated', type: 'Issue', id: 10 },
                push_to_ack_ms: { type: 'double', id: 11, options: { proto3_optional: true } },
                removed: { type: 'bool', id: 12 },
              },
            },
            ListProxiesRequest: { fields: { namespace: { type: 'string', id: 1 } } },
            ListProxiesResponse: {
              fields: {
                proxies: { rule: 'repeated', type: 'ProxyStatus', id: 1 },
                latest_version: { type: 'uint64', id: 2 },
                latest_hash: { type: 'string', id: 3 },
              },
            },
            GetProxyConfigRequest: {
              fields: { namespace: { type: 'string', id: 1 }, pod: { type: 'string', id: 2 } },
            },
            GetProxyConfigResponse: {
              fields: {
                version: { type: 'uint64', id: 1 },
                hash: { type: 'string', id: 2 },
                resources_json: { type: 'string', id: 3 },
                proxy_version: { type: 'uint64', id: 4 },
                proxy_hash: { type: 'string', id: 5 },
                proxy_has_it: { type: 'bool', id: 6 },
                proxy_state: { type: 'SyncState', id: 7 },
              },
            },
            File: {
              fields: { name: { type: 'string', id: 1 }, content: { type: 'string', id: 2 } },
            },
            ValidateRequest: { fields: { files: { rule: 'repeated', type: 'File', id: 1 } } },
            ValidateResponse: {
              fields: {
                ok: { type: 'bool', id: 1 },
                documents: { type: 'uint32', id: 2 },
                issues: { rule: 'repeated', type: 'Issue', id: 3 },
              },
            },
            WatchRequest: { fields: {} },
          },
        },
      },
    },
  },
};
