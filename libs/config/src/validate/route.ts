// Semantic checks of one Route document: one action, exactly-one-of matches, weights, retries.
import { parseDuration } from '../duration.js';
import type { PathSegment } from '../issues.js';
import type { RouteMatch, RouteResource } from '../schema/route.js';
import type { IssueSink } from './issue-sink.js';
import { atLeastOne, atMostOne, exactlyOne, unique } from './rules.js';

/**
 * `raw` is the document as written, before defaults: a destination's weight defaults to 100, so
 * only the raw document tells whether it was given.
 */
export function checkRoute(route: RouteResource, raw: unknown, sink: IssueSink): void {
  const { spec } = route;
  unique(
    sink,
    spec.hosts,
    (index) => ['spec', 'hosts', index],
    (host) => host,
    (host) => `host ${JSON.stringify(host)}`,
  );
  if (spec.match !== undefined) checkMatch(spec.match, sink);
  exactlyOne(sink, ['spec'], spec, ['destinations', 'redirect', 'directResponse']);
  checkDestinations(route, raw, sink);
  checkRewrite(route, sink);
  if (spec.redirect !== undefined) {
    atMostOne(sink, ['spec', 'redirect'], spec.redirect, ['path', 'prefix']);
    if (spec.redirect.prefix !== undefined)
      needsPrefixMatch(route, ['spec', 'redirect', 'prefix'], sink);
  }
  checkRetries(route, sink);
  if (spec.fault !== undefined) {
    atLeastOne(sink, ['spec', 'fault'], spec.fault, ['delay', 'abort']);
    if (spec.fault.abort !== undefined) {
      exactlyOne(sink, ['spec', 'fault', 'abort'], spec.fault.abort, ['httpStatus', 'grpcStatus']);
    }
  }
}

function checkMatch(match: RouteMatch, sink: IssueSink): void {
  if (match.path !== undefined) {
    exactlyOne(sink, ['spec', 'match', 'path'], match.path, ['exact', 'prefix', 'regex']);
  }
  unique(
    sink,
    match.methods,
    (index) => ['spec', 'match', 'methods', index],
    (method) => method,
    (method) => `method ${method}`,
  );
  match.headers?.forEach((header, index) =>
    exactlyOne(sink, ['spec', 'match', 'headers', index], header, [
      'exact',
      'prefix',
      'regex',
      'present',
    ]),
  );
  match.query?.forEach((query, index) =>
    exactlyOne(sink, ['spec', 'match', 'query', index], query, ['exact', 'regex', 'present']),
  );
}

function checkDestinations(route: RouteResource, raw: unknown, sink: IssueSink): void {
  const destinations = route.spec.destinations;
  if (destinations === undefined) return;
  unique(
    sink,
    destinations,
    (index) => ['spec', 'destinations', index],
    (d) => `${d.namespace ?? route.metadata.namespace}/${d.service}:${d.port ?? ''}`,
    (d) =>
      `destination service ${JSON.stringify(d.service)}${d.port === undefined ? '' : ` port ${d.port}`}`,
  );
  if (destinations.length < 2) return;
  const written = (raw as { spec: { destinations: { weight?: unknown }[] } }).spec.destinations;
  const missing = written.flatMap((d, index) => (d.weight === undefined ? [index] : []));
  for (const index of missing) {
    sink.error(
      'TRL_CFG_WEIGHTS',
      ['spec', 'destinations', index, 'weight'],
      'is required when there are several destinations',
    );
  }
  const sum = destinations.reduce((total, d) => total + d.weight, 0);
  if (missing.length === 0 && sum !== 100) {
    sink.error('TRL_CFG_WEIGHTS', ['spec', 'destinations'], `weights must sum to 100 (got ${sum})`);
  }
}

function checkRewrite(route: RouteResource, sink: IssueSink): void {
  const { rewrite, destinations } = route.spec;
  if (rewrite === undefined) return;
  if (destinations === undefined) {
    sink.error('TRL_CFG_CONSTRAINT', ['spec', 'rewrite'], 'is only allowed with destinations');
  }
  atLeastOne(sink, ['spec', 'rewrite'], rewrite, ['prefix', 'regex', 'host']);
  atMostOne(sink, ['spec', 'rewrite'], rewrite, ['prefix', 'regex']);
  if (rewrite.prefix !== undefined) needsPrefixMatch(route, ['spec', 'rewrite', 'prefix'], sink);
}

function needsPrefixMatch(route: RouteResource, path: PathSegment[], sink: IssueSink): void {
  if (route.spec.match?.path?.prefix === undefined) {
    sink.error('TRL_CFG_CONSTRAINT', path, 'needs spec.match.path.prefix (the prefix it replaces)');
  }
}

function checkRetries(route: RouteResource, sink: IssueSink): void {
  const retries = route.spec.retries;
  if (retries === undefined) return;
  unique(
    sink,
    retries.retryOn,
    (index) => ['spec', 'retries', 'retryOn', index],
    (condition) => condition,
    (condition) => `condition ${JSON.stringify(condition)}`,
  );
  const byStatus = retries.retryOn.includes('retriable-status-codes');
  if (byStatus && retries.retriableStatusCodes === undefined) {
    sink.error(
      'TRL_CFG_CONSTRAINT',
      ['spec', 'retries', 'retriableStatusCodes'],
      'is required when retryOn has retriable-status-codes',
    );
  }
  if (!byStatus && retries.retriableStatusCodes !== undefined) {
    sink.error(
      'TRL_CFG_CONSTRAINT',
      ['spec', 'retries', 'retriableStatusCodes'],
      'is only allowed when retryOn has retriable-status-codes',
    );
  }
  const { base, max } = retries.backoff;
  if (parseDuration(max) < parseDuration(base)) {
    sink.error(
      'TRL_CFG_CONSTRAINT',
      ['spec', 'retries', 'backoff', 'max'],
      `must be ≥ base (${base}) (got ${max})`,
    );
  }
}
