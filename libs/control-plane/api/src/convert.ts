// From the control plane's own types to the API's messages.
import { formatIssue } from '@trellis/config';
import type { ConfigIssue } from '@trellis/config';
import type { ProxySyncView } from '@trellis/control-plane-delivery';
import type { IssueMessage, ProxyStatusMessage } from './messages.js';

export function issueMessage(issue: ConfigIssue): IssueMessage {
  return {
    severity: issue.severity,
    code: issue.code,
    document: issue.document ?? '',
    path: issue.path ?? '',
    message: issue.message,
    file: issue.source?.file ?? '',
    line: issue.source?.line ?? 0,
    column: issue.source?.column ?? 0,
    text: formatIssue(issue),
  };
}

/** `wallNow` (epoch ms) turns the tracker's "seen N ms ago" into a time. */
export function proxyStatusMessage(view: ProxySyncView, wallNow: number): ProxyStatusMessage {
  const newestAck = view.ackLatencies.at(-1);
  return {
    namespace: view.identity.namespace,
    pod: view.identity.pod,
    service: view.identity.service,
    role: view.identity.role,
    state: view.state,
    version: view.version,
    hash: view.hash,
    last_seen: new Date(wallNow - view.lastSeenAgoMs).toISOString(),
    nack_version: view.nack?.version ?? 0,
    nack_issues: (view.nack?.issues ?? []).map(issueMessage),
    ...(newestAck ? { push_to_ack_ms: newestAck.latencyMs } : {}),
    removed: false,
  };
}
