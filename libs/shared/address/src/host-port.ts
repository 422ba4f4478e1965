// Parses listen and upstream addresses given on command lines: `HOST:PORT`, `[IPv6]:PORT`,
// or `:PORT` (all interfaces). Errors say which flag was wrong and what was expected.

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export class AddressError extends Error {
  readonly code = 'TRL_ADDRESS_INVALID';
}

export function parseHostPort(value: string, what: string, defaultHost = '0.0.0.0'): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new AddressError(`${what} must be HOST:PORT, [IPv6]:PORT or :PORT (got "${value}")`);
  }
  return { host: match[1] ?? (match[2] || defaultHost), port };
}

/** The reverse of parseHostPort, bracketing IPv6 literals. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
