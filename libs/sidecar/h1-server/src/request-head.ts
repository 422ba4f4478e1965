// What the parser learned from one request head: the request line, the fields (names
// lower-cased once, here), and the framing and connection facts the server acts on.
import { badRequest } from './errors.js';
import { AUTHORITY } from './http-syntax.js';

export interface RequestHead {
  readonly method: string;
  /** The request-target exactly as received. */
  readonly rawTarget: string;
  /**
   * Origin-form of the target: as received for origin-form, `*` and CONNECT's authority-form;
   * path and query of an absolute-form URI (`/` when it has no path).
   */
  readonly target: string;
  /** The absolute-form URI's authority (Host is then ignored), CONNECT's target, else Host. */
  readonly authority: string;
  /** 0 or 1 (HTTP/1.0, HTTP/1.1). */
  readonly versionMinor: number;
  /** Flat [name, value, …], names lower-cased, order and repeats kept. */
  readonly headers: string[];
  /** Declared Content-Length, or -1. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** A body follows the head (chunked, or Content-Length > 0). */
  readonly hasBody: boolean;
  /** The client allows another request on this connection after this one. */
  readonly keepAlive: boolean;
  /** The Upgrade value when `Connection: upgrade` asks for it (HTTP/1.1 only), else ''. */
  readonly upgrade: string;
  /** `Expect: 100-continue` on an HTTP/1.1 request. */
  readonly expectContinue: boolean;
}

const HTTP_SCHEME = /^https?:\/\//i;

function checkAuthority(value: string, reason: string): void {
  for (let i = 0; i < value.length; i++) {
    if (AUTHORITY[value.charCodeAt(i)] !== 1) badRequest(reason, `invalid byte in ${reason}`);
  }
}

/** Validates a Host value: an authority without userinfo, or empty. */
export function checkHost(host: string): void {
  checkAuthority(host, 'invalid-host');
}

/**
 * Splits a request-target (already checked to be visible ASCII) by its form (RFC 9112 §3.2)
 * into the origin-form target and the authority it names, if any (`undefined`: use Host).
 */
export function splitTarget(
  method: string,
  raw: string,
): { target: string; authority: string | undefined } {
  const first = raw.charCodeAt(0);
  if (method === 'CONNECT') {
    // authority-form: host ":" port, nothing else.
    const colon = raw.lastIndexOf(':');
    const port = raw.slice(colon + 1);
    if (first === 0x2f || colon <= 0 || !/^[0-9]{1,5}$/.test(port) || raw.includes('@')) {
      badRequest('invalid-target', 'CONNECT needs an authority-form target (host:port)');
    }
    checkAuthority(raw, 'invalid-target');
    return { target: raw, authority: raw };
  }
  if (first === 0x2f /* / */) return { target: raw, authority: undefined };
  if (raw === '*') {
    if (method !== 'OPTIONS') badRequest('invalid-target', 'the asterisk form is for OPTIONS only');
    return { target: raw, authority: undefined };
  }
  if (!HTTP_SCHEME.test(raw)) badRequest('invalid-target', 'unrecognised request-target form');
  const from = raw.indexOf('/') + 2;
  let end = from;
  while (end < raw.length) {
    const c = raw.charCodeAt(end);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
    end++;
  }
  const authority = raw.slice(from, end);
  // Userinfo is deprecated (RFC 9110 §4.2.4) and a classic way to disguise the real host.
  if (authority.length === 0 || authority.includes('@')) {
    badRequest('invalid-target', 'absolute-form target without a usable authority');
  }
  checkAuthority(authority, 'invalid-target');
  const rest = raw.slice(end);
  const target = rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
  return { target, authority };
}
