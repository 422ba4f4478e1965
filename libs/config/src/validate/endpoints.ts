// Semantic checks of one Endpoints document.
import type { EndpointsResource } from '../schema/endpoints.js';
import type { IssueSink } from './issue-sink.js';
import { unique } from './rules.js';

export function checkEndpoints(endpoints: EndpointsResource, sink: IssueSink): void {
  unique(
    sink,
    endpoints.spec.endpoints,
    (index) => ['spec', 'endpoints', index],
    (endpoint) => `${endpoint.address.toLowerCase()}|${endpoint.port}`,
    (endpoint) =>
      `endpoint ${endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address}:${endpoint.port}`,
  );
}
