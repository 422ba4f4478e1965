// Route: how requests for a set of hosts are matched and what happens to them.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import {
  Authority,
  Duration,
  HeaderMap,
  HeaderName,
  Hostname,
  HttpPath,
  IntegerEnum,
  Name,
  Obj,
  Percent,
  Port,
  Regex,
  ResourceSchema,
  StringEnum,
} from './common.js';

export const HTTP_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
] as const;

export const RETRY_ON = [
  '5xx',
  'gateway-error',
  'reset',
  'connect-failure',
  'refused-stream',
  'retriable-status-codes',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;
export type RetryOn = (typeof RETRY_ON)[number];

export const DOWNSTREAM_PROTOCOLS = ['http1', 'h2c'] as const;

export const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

const MATCH_VALUE_MAX = 4096;

export const PathMatchSchema = Obj(
  {
    exact: Type.Optional(HttpPath('The path equals this.')),
    prefix: Type.Optional(HttpPath('The path starts with this.')),
    regex: Type.Optional(Regex('The whole path matches this.')),
  },
  { description: 'Match on the request path (without query); set exactly one of the fields.' },
);

export const HeaderMatchSchema = Obj(
  {
    name: HeaderName('Header name (case-insensitive).'),
    exact: Type.Optional(
      Type.String({ description: 'The value equals this.', maxLength: MATCH_VALUE_MAX }),
    ),
    prefix: Type.Optional(
      Type.String({
        description: 'The value starts with this.',
        minLength: 1,
        maxLength: MATCH_VALUE_MAX,
      }),
    ),
    regex: Type.Optional(Regex('The whole value matches this.')),
    present: Type.Optional(
      Type.Boolean({
        description: 'true: the header is present (any value); false: it is absent.',
      }),
    ),
    invert: Type.Boolean({ description: 'Negate the result of the match.', default: false }),
  },
  { description: 'Match on one header; set exactly one of exact, prefix, regex or present.' },
);

export const QueryMatchSchema = Obj(
  {
    name: Type.String({ description: 'Query parameter name.', minLength: 1, maxLength: 256 }),
    exact: Type.Optional(
      Type.String({ description: 'The value equals this.', maxLength: MATCH_VALUE_MAX }),
    ),
    regex: Type.Optional(Regex('The whole value matches this.')),
    present: Type.Optional(
      Type.Boolean({ description: 'true: the parameter is present; false: it is absent.' }),
    ),
  },
  { description: 'Match on one query parameter; set exactly one of exact, regex or present.' },
);

export const RouteMatchSchema = Obj(
  {
    path: Type.Optional(PathMatchSchema),
    methods: Type.Optional(
      Type.Array(StringEnum(HTTP_METHODS, { description: 'HTTP method.' }), {
        description: 'The method is one of these (no duplicates).',
        minItems: 1,
        maxItems: HTTP_METHODS.length,
      }),
    ),
    headers: Type.Optional(
      Type.Array(HeaderMatchSchema, {
        description: 'All of these header matches hold.',
        maxItems: 32,
      }),
    ),
    query: Type.Optional(
      Type.Array(QueryMatchSchema, {
        description: 'All of these query matches hold.',
        maxItems: 32,
      }),
    ),
    protocol: Type.Optional(
      StringEnum(DOWNSTREAM_PROTOCOLS, {
        description:
          'The HTTP version the client spoke to the proxy: http1 (HTTP/1.1) or h2c (cleartext HTTP/2), e.g. to send HTTP/2 clients to an h2c backend.',
      }),
    ),
  },
  { description: 'Which requests the route takes; absent: every request for the hosts.' },
);

export const DestinationSchema = Obj(
  {
    service: Name('Service to forward to.'),
    namespace: Type.Optional(Name("Namespace of the service; defaults to the route's namespace.")),
    port: Type.Optional(
      Port('Service port to use; required when the service has more than one port.'),
    ),
    weight: Type.Integer({
      description:
        'Share of the traffic in percent. Required on every destination when there are several (they must sum to 100); a single destination gets 100.',
      minimum: 0,
      maximum: 100,
      default: 100,
    }),
  },
  { description: 'A weighted backend service.' },
);

export const RedirectSchema = Obj(
  {
    status: IntegerEnum(REDIRECT_STATUSES, { description: 'Redirect status code.', default: 302 }),
    scheme: Type.Optional(StringEnum(['http', 'https'], { description: 'Replacement scheme.' })),
    host: Type.Optional(Hostname('Replacement host.')),
    port: Type.Optional(Port('Replacement port.')),
    path: Type.Optional(HttpPath('Replacement path; not together with prefix.')),
    prefix: Type.Optional(
      HttpPath(
        'Replaces the matched path prefix; needs match.path.prefix; not together with path.',
      ),
    ),
    stripQuery: Type.Boolean({ description: 'Drop the query string.', default: false }),
  },
  { description: 'Answer with a redirect; unset parts keep their value from the request.' },
);

export const DirectResponseSchema = Obj(
  {
    status: Type.Integer({ description: 'Response status code.', minimum: 200, maximum: 599 }),
    body: Type.Optional(Type.String({ description: 'Response body.', maxLength: 65536 })),
    contentType: Type.Optional(
      Type.String({ description: 'Content-Type of the body.', minLength: 1, maxLength: 256 }),
    ),
  },
  { description: 'Answer directly from the proxy.' },
);

export const RewriteSchema = Obj(
  {
    prefix: Type.Optional(
      HttpPath(
        'Replaces the matched path prefix; needs match.path.prefix; not together with regex.',
      ),
    ),
    regex: Type.Optional(
      Obj(
        {
          pattern: Regex('Pattern to find in the path.'),
          substitution: Type.String({
            description: 'Replacement; `$1`… refer to capture groups.',
            maxLength: 2048,
          }),
        },
        { description: 'Rewrite the path by regular expression; not together with prefix.' },
      ),
    ),
    host: Type.Optional(Hostname('Replacement Host/:authority.')),
  },
  {
    description:
      'Rewrite the request before forwarding; only with destinations; set at least one field.',
  },
);

export const BackoffSchema = Obj(
  {
    base: Duration({
      description: 'First backoff interval.',
      default: '25ms',
      min: '1ms',
      max: '1m',
    }),
    max: Duration({
      description: 'Largest backoff interval; at least base.',
      default: '250ms',
      min: '1ms',
      max: '10m',
    }),
  },
  { description: 'Exponential backoff with jitter between attempts.', default: {} },
);

export const RetriesSchema = Obj(
  {
    attempts: Type.Integer({
      description: 'Retries after the first try (0 disables retries).',
      minimum: 0,
      maximum: 10,
      default: 2,
    }),
    perTryTimeout: Type.Optional(
      Duration({ description: 'Timeout of each try.', min: '1ms', max: '1h' }),
    ),
    retryOn: Type.Array(StringEnum(RETRY_ON, { description: 'Retry condition.' }), {
      description:
        'Conditions that trigger a retry (no duplicates); retriable-status-codes needs retriableStatusCodes.',
      minItems: 1,
      maxItems: RETRY_ON.length,
      default: ['gateway-error', 'connect-failure', 'refused-stream'],
    }),
    retriableStatusCodes: Type.Optional(
      Type.Array(Type.Integer({ description: 'HTTP status code.', minimum: 100, maximum: 599 }), {
        description: 'Status codes to retry; only with retryOn retriable-status-codes.',
        minItems: 1,
        maxItems: 32,
      }),
    ),
    backoff: BackoffSchema,
    retryNonIdempotent: Type.Boolean({
      description: 'Also retry non-idempotent requests (POST, PATCH).',
      default: false,
    }),
  },
  { description: 'Retry policy; absent: requests are not retried.' },
);

export const FaultSchema = Obj(
  {
    delay: Type.Optional(
      Obj(
        {
          percent: Percent({ description: 'Share of requests to delay.' }),
          duration: Duration({ description: 'Delay to add.', min: '1ms', max: '1h' }),
        },
        { description: 'Delay some requests.' },
      ),
    ),
    abort: Type.Optional(
      Obj(
        {
          percent: Percent({ description: 'Share of requests to abort.' }),
          httpStatus: Type.Optional(
            Type.Integer({
              description: 'HTTP status to answer with.',
              minimum: 200,
              maximum: 599,
            }),
          ),
          grpcStatus: Type.Optional(
            Type.Integer({
              description: 'gRPC status code to answer with.',
              minimum: 0,
              maximum: 16,
            }),
          ),
        },
        { description: 'Fail some requests; set exactly one of httpStatus or grpcStatus.' },
      ),
    ),
  },
  { description: 'Fault injection for testing; set delay, abort or both.' },
);

export const HeaderRewriteSchema = Obj(
  {
    set: Type.Optional(HeaderMap('Headers to set, replacing existing values.')),
    add: Type.Optional(HeaderMap('Headers to append.')),
    remove: Type.Optional(
      Type.Array(HeaderName('Header to remove.'), {
        description: 'Headers to remove.',
        maxItems: 64,
      }),
    ),
  },
  { description: 'Header changes.' },
);

export const MirrorSchema = Obj(
  {
    service: Name('Service to send copies to.'),
    namespace: Type.Optional(Name("Namespace of the service; defaults to the route's namespace.")),
    port: Type.Optional(
      Port('Service port to use; required when the service has more than one port.'),
    ),
    percent: Percent({ description: 'Share of requests to mirror.', default: 100 }),
  },
  { description: 'Send a copy of requests to another service; its responses are ignored.' },
);

export const RouteSpecSchema = Obj(
  {
    hosts: Type.Array(
      Authority(
        'Host the route applies to: catalog, catalog.shop, shop.example.com, *.example.com (a leading "*." label only), optionally with :port.',
      ),
      { description: 'Hosts the route applies to (no duplicates).', minItems: 1, maxItems: 64 },
    ),
    match: Type.Optional(RouteMatchSchema),
    destinations: Type.Optional(
      Type.Array(DestinationSchema, {
        description:
          'Forward to these services. Exactly one of destinations, redirect and directResponse.',
        minItems: 1,
        maxItems: 16,
      }),
    ),
    redirect: Type.Optional(RedirectSchema),
    directResponse: Type.Optional(DirectResponseSchema),
    rewrite: Type.Optional(RewriteSchema),
    timeout: Type.Optional(
      Duration({
        description: 'Timeout of the whole request, retries included.',
        min: '1ms',
        max: '1h',
      }),
    ),
    retries: Type.Optional(RetriesSchema),
    fault: Type.Optional(FaultSchema),
    requestHeaders: Type.Optional(HeaderRewriteSchema),
    responseHeaders: Type.Optional(HeaderRewriteSchema),
    mirror: Type.Optional(MirrorSchema),
  },
  { description: 'Route specification.' },
);

export const RouteSchema = ResourceSchema(
  'Route',
  'Matches requests by host, path, method, headers and query, and forwards, redirects or answers them.',
  RouteSpecSchema,
);

export type PathMatch = Static<typeof PathMatchSchema>;
export type HeaderMatch = Static<typeof HeaderMatchSchema>;
export type QueryMatch = Static<typeof QueryMatchSchema>;
export type RouteMatch = Static<typeof RouteMatchSchema>;
export type Destination = Static<typeof DestinationSchema>;
export type Retries = Static<typeof RetriesSchema>;
export type RouteResource = Static<typeof RouteSchema>;
