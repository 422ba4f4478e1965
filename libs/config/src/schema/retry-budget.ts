// RetryBudget: caps retries to a service as a share of its recent requests.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { Duration, Name, Obj, ResourceSchema } from './common.js';

export const RetryBudgetSpecSchema = Obj(
  {
    service: Name(
      'Service in the same namespace whose retries are budgeted; one budget per service.',
    ),
    ratio: Type.Number({
      description: 'Retries allowed as a fraction of the requests over ttl.',
      minimum: 0,
      maximum: 1,
      default: 0.2,
    }),
    minRetriesPerSecond: Type.Integer({
      description: 'Retries per second always allowed, whatever the ratio.',
      minimum: 0,
      maximum: 100_000,
      default: 10,
    }),
    ttl: Duration({
      description: 'Window over which requests and retries are counted.',
      default: '10s',
      min: '1s',
      max: '1h',
    }),
  },
  { description: 'RetryBudget specification.' },
);

export const RetryBudgetSchema = ResourceSchema(
  'RetryBudget',
  'Caps the retries to one service so that retries cannot multiply an overload.',
  RetryBudgetSpecSchema,
);

export type RetryBudgetResource = Static<typeof RetryBudgetSchema>;
