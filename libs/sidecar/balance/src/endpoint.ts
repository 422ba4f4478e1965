// The discovery-side description of one endpoint, and its validation. Conditions follow
// Kubernetes EndpointSlice: `ready` (serving and not terminating), `serving`, `terminating`.
import { BalanceError } from './errors.js';

export interface Endpoint {
  /** Stable identity, conventionally `address:port`; per-endpoint state is carried over by id. */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** Relative share of traffic, integer 1–1000. */
  readonly weight: number;
  /** Topology zone; endpoints without one never count as local. */
  readonly zone?: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

export const MIN_WEIGHT = 1;
export const MAX_WEIGHT = 1000;

function fail(path: string, message: string): never {
  throw new BalanceError('TRL_BALANCE_INVALID_ENDPOINT', path, message);
}

function nonEmpty(value: unknown, path: string): void {
  if (typeof value !== 'string' || value.length === 0) fail(path, 'must be a non-empty string');
}

/** Throws `TRL_BALANCE_INVALID_ENDPOINT` naming `path.field` when `endpoint` is malformed. */
export function validateEndpoint(endpoint: Endpoint, path: string): void {
  nonEmpty(endpoint.id, `${path}.id`);
  nonEmpty(endpoint.address, `${path}.address`);
  const { port, weight } = endpoint;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    fail(`${path}.port`, `must be an integer 1–65535 (got ${String(port)})`);
  }
  if (!Number.isInteger(weight) || weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
    fail(
      `${path}.weight`,
      `must be an integer ${MIN_WEIGHT}–${MAX_WEIGHT} (got ${String(weight)})`,
    );
  }
  if (endpoint.zone !== undefined) nonEmpty(endpoint.zone, `${path}.zone`);
  for (const flag of ['ready', 'serving', 'terminating'] as const) {
    if (typeof endpoint[flag] !== 'boolean') fail(`${path}.${flag}`, 'must be a boolean');
  }
}
