// @trellis/address: host:port parsing shared by every command line.
export type { HostPort } from './host-port.js';
export { AddressError, formatHostPort, parseHostPort } from './host-port.js';
