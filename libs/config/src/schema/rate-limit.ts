// RateLimit: a local token bucket in front of one service or one route.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { Duration, Name, Obj, ResourceSchema } from './common.js';

const TOKENS_MAX = 1_000_000_000;

export const TokenBucketSchema = Obj(
  {
    maxTokens: Type.Integer({
      description: 'Bucket size: the largest burst allowed.',
      minimum: 1,
      maximum: TOKENS_MAX,
    }),
    tokensPerFill: Type.Integer({
      description: 'Tokens added at each fill.',
      minimum: 1,
      maximum: TOKENS_MAX,
    }),
    fillInterval: Duration({ description: 'Time between fills.', min: '1ms', max: '24h' }),
  },
  { description: 'Token bucket: each request takes a token; none left means rejected.' },
);

export const RateLimitSpecSchema = Obj(
  {
    service: Type.Optional(
      Name('Service in the same namespace to limit; exactly one of service and route.'),
    ),
    route: Type.Optional(
      Name('Route in the same namespace to limit; exactly one of service and route.'),
    ),
    tokenBucket: TokenBucketSchema,
    statusCode: Type.Integer({
      description: 'Status code of rejected requests.',
      minimum: 400,
      maximum: 599,
      default: 429,
    }),
  },
  { description: 'RateLimit specification.' },
);

export const RateLimitSchema = ResourceSchema(
  'RateLimit',
  'A local rate limit (token bucket per sidecar) on one service or route.',
  RateLimitSpecSchema,
);

export type RateLimitResource = Static<typeof RateLimitSchema>;
