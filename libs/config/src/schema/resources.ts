// The resource union and the per-kind schema table, in TypeBox and in emitted JSON Schema form.
import type { TSchema } from '@sinclair/typebox';
import type { Kind } from '../kinds.js';
import { DestinationPolicySchema } from './destination-policy.js';
import type { DestinationPolicyResource } from './destination-policy.js';
import { EndpointsSchema } from './endpoints.js';
import type { EndpointsResource } from './endpoints.js';
import { deepFreeze, toJsonSchema } from './json-schema.js';
import { RateLimitSchema } from './rate-limit.js';
import type { RateLimitResource } from './rate-limit.js';
import { RetryBudgetSchema } from './retry-budget.js';
import type { RetryBudgetResource } from './retry-budget.js';
import { RouteSchema } from './route.js';
import type { RouteResource } from './route.js';
import { ServiceSchema } from './service.js';
import type { ServiceResource } from './service.js';
import { TelemetrySchema } from './telemetry.js';
import type { TelemetryResource } from './telemetry.js';

/** A validated resource: defaults applied, keys in schema order. */
export type Resource =
  | ServiceResource
  | EndpointsResource
  | RouteResource
  | DestinationPolicyResource
  | RateLimitResource
  | RetryBudgetResource
  | TelemetryResource;

export type ResourceOfKind<K extends Kind> = Extract<Resource, { kind: K }>;

/** The TypeBox definition of each kind (carries the FieldFormat annotations). */
export const RESOURCE_SCHEMAS: Readonly<Record<Kind, TSchema>> = {
  Service: ServiceSchema,
  Endpoints: EndpointsSchema,
  Route: RouteSchema,
  DestinationPolicy: DestinationPolicySchema,
  RateLimit: RateLimitSchema,
  RetryBudget: RetryBudgetSchema,
  Telemetry: TelemetrySchema,
};

/** JSON Schema (OpenAPI v3 subset, Kubernetes structural) of each whole document. Frozen. */
export const resourceJsonSchemas: Readonly<Record<Kind, object>> = deepFreeze({
  Service: toJsonSchema(ServiceSchema),
  Endpoints: toJsonSchema(EndpointsSchema),
  Route: toJsonSchema(RouteSchema),
  DestinationPolicy: toJsonSchema(DestinationPolicySchema),
  RateLimit: toJsonSchema(RateLimitSchema),
  RetryBudget: toJsonSchema(RetryBudgetSchema),
  Telemetry: toJsonSchema(TelemetrySchema),
});
