// Encodes one sidecar's statuses with its identity serialised once. A sidecar sends one ACK per
// version and one heartbeat per interval; a process simulating thousands of sidecars (the
// control-plane benchmark) sends thousands at once, and JSON.stringify of the nested identity
// was most of each message's encoding. The bytes equal encodeMessage's for the same status.
import { encodeMessage } from './messages.js';
import type { ProxyIdentity, ProxyStatus } from './messages.js';

const encoder = new TextEncoder();

/**
 * `encodeMessage` for the statuses of `identity` (which must not change afterwards). A status of
 * another identity object, or one with NACK fields, is encoded by `encodeMessage` itself.
 */
export function statusEncoder(identity: ProxyIdentity): (status: ProxyStatus) => Uint8Array {
  const prefix = `{"proxy":${JSON.stringify(identity)},"kind":`;
  return (status) => {
    if (
      status.proxy !== identity ||
      status.rejectedVersion !== undefined ||
      status.issues !== undefined
    ) {
      return encodeMessage(status);
    }
    // Field order as in a status literal { proxy, kind, version, hash, at }: JSON.stringify's.
    return encoder.encode(
      `${prefix}${JSON.stringify(status.kind)},"version":${JSON.stringify(status.version)},"hash":${JSON.stringify(status.hash)},"at":${JSON.stringify(status.at)}}`,
    );
  };
}
