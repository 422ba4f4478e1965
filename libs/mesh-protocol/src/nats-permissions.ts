// The NATS permissions of the two parties to the protocol (docs/protocol.md, Security): what the
// control plane and each sidecar may publish and subscribe to, least privilege. Part of the
// protocol because both sides' tests hold their NATS users to exactly these.
import {
  KV_CONFIG_BUCKET,
  KV_LEADER_BUCKET,
  SUBJECT_PREFIX,
  inboxPrefix,
  subjects,
} from './subjects.js';

export interface NatsSubjectPermission {
  readonly allow: readonly string[];
  readonly deny?: readonly string[];
}

export interface NatsPermissions {
  readonly publish: NatsSubjectPermission;
  readonly subscribe: NatsSubjectPermission;
}

/**
 * Besides the protocol subjects, the control plane needs JetStream's API, the KV buckets' own
 * subjects (a KV put is a publish on `$KV.<bucket>.<key>`) and `$JS.FC.>` (flow-control replies
 * of the KV watch), all found by running the delivery against a server with exactly these. Its
 * `_INBOX.>` covers the replies to every sidecar's own inbox prefix.
 */
export const CONTROL_PLANE_NATS_PERMISSIONS: NatsPermissions = Object.freeze({
  publish: Object.freeze({
    allow: Object.freeze([
      subjects.configUpdates,
      '$JS.API.>',
      '$JS.FC.>',
      `$KV.${KV_CONFIG_BUCKET}.>`,
      `$KV.${KV_LEADER_BUCKET}.>`,
      '_INBOX.>',
    ]),
  }),
  subscribe: Object.freeze({
    allow: Object.freeze([subjects.allSync, subjects.allStatus, subjects.allTelemetry, '_INBOX.>']),
  }),
});

/** The sidecar of pod `namespace/pod`: its own subjects and its own inbox, nothing else. */
export function sidecarNatsPermissions(namespace: string, pod: string): NatsPermissions {
  return {
    publish: {
      allow: [
        subjects.sync(namespace, pod),
        subjects.status(namespace, pod),
        subjects.telemetry(namespace, pod),
      ],
      // Redundant with the allow list, and kept so that widening it never lets config in.
      deny: [`${SUBJECT_PREFIX}.config.>`, '$JS.>', '$KV.>'],
    },
    subscribe: { allow: [subjects.configUpdates, `${inboxPrefix(namespace, pod)}.>`] },
  };
}
