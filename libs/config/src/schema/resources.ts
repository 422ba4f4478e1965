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

/**
 * JSON Schema (OpenAPI v3 subset, Kubernetes structural) of each whole document. Frozen. For the
 * generator, tools and tests: validation runs the precompiled validators, so the calls are marked
 * pure and a bundle that never reads this table (the sidecar) leaves them out of its start-up.
 */
export const resourceJsonSchemas: Readonly<Record<Kind, object>> = /* @__PURE__ */ deepFreeze({
  Service: /* @__PURE__ */ toJsonSchema(ServiceSchema),
  Endpoints: /* @__PURE__ */ toJsonSchema(EndpointsSchema),
  Route: /* @__PURE__ */ toJsonSchema(RouteSchema),
  DestinationPolicy: /* @__PURE__ */ toJsonSchema(DestinationPolicySchema),
  RateLimit: /* @__PURE__ */ toJsonSchema(RateLimitSchema),
  RetryBudget: /* @__PURE__ */ toJsonSchema(RetryBudgetSchema),
  Telemetry: /* @__PURE__ */ toJsonSchema(TelemetrySchema),
});
