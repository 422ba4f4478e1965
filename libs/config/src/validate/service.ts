// Semantic checks of one Service document.
import type { ServiceResource } from '../schema/service.js';
import type { IssueSink } from './issue-sink.js';
import { unique } from './rules.js';

export function checkService(service: ServiceResource, sink: IssueSink): void {
  const { ports, aliases } = service.spec;
  unique(
    sink,
    ports,
    (index) => ['spec', 'ports', index, 'port'],
    (port) => String(port.port),
    (port) => `port ${port.port}`,
  );
  unique(
    sink,
    ports,
    (index) => ['spec', 'ports', index, 'name'],
    (port) => port.name,
    (port) => `port name ${JSON.stringify(port.name)}`,
  );
  unique(
    sink,
    aliases,
    (index) => ['spec', 'aliases', index],
    (alias) => alias,
    (alias) => `alias ${JSON.stringify(alias)}`,
  );
}
