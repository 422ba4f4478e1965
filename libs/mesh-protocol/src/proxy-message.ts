// Reading a message a sidecar sent on one of its own subjects (`trellis.v1.<kind>.<namespace>.<pod>`).
// The subject is what NATS permissions vouch for (each sidecar user may publish on its own
// subjects only), so a message whose `proxy` names anyone else is refused: one rule for sync
// requests, statuses and telemetry summaries alike.
import { ProtocolError } from './errors.js';
import { parseProxySubject } from './subjects.js';
import type { ProxySubjectKind } from './subjects.js';

/** What a per-proxy message carries: the proxy that sent it. */
export interface FromProxy {
  readonly proxy: { readonly namespace: string; readonly pod: string };
}

/**
 * Pure: the message `decode` reads from `data`, or the ProtocolError refusing it:
 * TRL_PROTO_INVALID for a subject that is not `kind`'s, the decoder's code for a bad payload
 * (TRL_PROTO_MALFORMED for anything else it throws), TRL_PROTO_IDENTITY_MISMATCH when the
 * message's proxy is not the one its subject names.
 */
export function readProxyMessage<T extends FromProxy>(
  kind: ProxySubjectKind,
  subject: string,
  data: Uint8Array,
  decode: (data: Uint8Array) => T,
): T | ProtocolError {
  const tokens = parseProxySubject(subject, kind);
  if (!tokens)
    return new ProtocolError(
      'TRL_PROTO_INVALID',
      `${kind} subject ${subject} is not trellis.v1.${kind}.<namespace>.<pod>`,
    );
  let message: T;
  try {
    message = decode(data);
  } catch (error) {
    return error instanceof ProtocolError
      ? error
      : new ProtocolError('TRL_PROTO_MALFORMED', String(error));
  }
  const [namespace, pod] = tokens;
  const { proxy } = message;
  if (proxy.namespace !== namespace || proxy.pod !== pod) {
    return new ProtocolError(
      'TRL_PROTO_IDENTITY_MISMATCH',
      `${kind} on ${subject} claims to be from ${proxy.namespace}/${proxy.pod}`,
    );
  }
  return message;
}
