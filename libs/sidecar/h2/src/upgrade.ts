// HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2): which requests qualify, and the stream-1 request an
// accepted one becomes. A request qualifies when it asks for h2c alone, nominates HTTP2-Settings
// in Connection, carries exactly one well-formed HTTP2-Settings field and no body; anything else
// stays HTTP/1.1.
import { isConnectionSpecific } from './headers.js';
import type { UpgradedRequest } from './server-session.js';

/** The parts of an HTTP/1.1 request head an upgrade needs. */
export interface H2cUpgradeRequest {
  readonly method: string;
  /** Origin-form target. */
  readonly target: string;
  /** Host, or the absolute-form authority. */
  readonly authority: string;
  /** Flat [name, value, …], lowercase names. */
  readonly headers: readonly string[];
  /** The Upgrade field's value ('' when Connection did not nominate it). */
  readonly upgrade: string;
  /** A body follows the head. */
  readonly hasBody: boolean;
}

const TOKEN68 = /^[A-Za-z0-9_-]*={0,2}$/;
/** HTTP/1.1 fields with no meaning once the request is an HTTP/2 stream. */
const DROPPED = new Set(['host', 'http2-settings']);

/** The decoded HTTP2-Settings payload, or null when the field is missing, repeated or invalid. */
function settingsPayload(headers: readonly string[]): Buffer | null {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'http2-settings') {
      if (value !== undefined) return null;
      value = headers[i + 1]!.trim();
    }
  }
  if (value === undefined || !TOKEN68.test(value)) return null;
  const payload = Buffer.from(value, 'base64url');
  return payload.length % 6 === 0 ? payload : null;
}

function connectionNominates(headers: readonly string[], token: string): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'connection') continue;
    for (const t of headers[i + 1]!.split(',')) if (t.trim().toLowerCase() === token) return true;
  }
  return false;
}

/** True when `request` may be upgraded to h2c (see the file comment). */
export function isH2cUpgrade(request: H2cUpgradeRequest): boolean {
  return (
    request.upgrade.trim().toLowerCase() === 'h2c' &&
    !request.hasBody &&
    request.method !== 'CONNECT' &&
    connectionNominates(request.headers, 'http2-settings') &&
    settingsPayload(request.headers) !== null
  );
}

/** The stream-1 request of an accepted upgrade, or null if `request` does not qualify. */
export function upgradedRequest(request: H2cUpgradeRequest): UpgradedRequest | null {
  if (!isH2cUpgrade(request)) return null;
  const settings = settingsPayload(request.headers)!;
  const headers: string[] = [];
  const src = request.headers;
  for (let i = 0; i < src.length; i += 2) {
    const name = src[i]!;
    const value = src[i + 1]!;
    if (isConnectionSpecific(name) || DROPPED.has(name)) continue;
    if (name === 'te' && value.trim().toLowerCase() !== 'trailers') continue;
    headers.push(name, value);
  }
  return {
    method: request.method,
    authority: request.authority,
    path: request.target,
    headers,
    settings,
  };
}
