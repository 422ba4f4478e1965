// The resource kinds of the Trellis mesh config model and the one API version they share.

export const API_VERSION = 'trellis.dev/v1alpha1';

export type Kind =
  | 'Service'
  | 'Endpoints'
  | 'Route'
  | 'DestinationPolicy'
  | 'RateLimit'
  | 'RetryBudget'
  | 'Telemetry';

/** Every kind, in dependency order (a kind only refers to kinds before it); snapshots sort by it. */
export const KINDS: readonly Kind[] = Object.freeze([
  'Service',
  'Endpoints',
  'Route',
  'DestinationPolicy',
  'RateLimit',
  'RetryBudget',
  'Telemetry',
]);

export function isKind(value: unknown): value is Kind {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}
