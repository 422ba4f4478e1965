// Picks the tracing settings that apply to this sidecar's workload: the Telemetry resource
// naming its service wins over the mesh-wide default, as for access logs.
import type { Resource, TelemetryResource } from '@trellis/config';
import type { ServiceIdentity } from '../telemetry-select.js';
import type { TracingSettings } from './mesh-tracer.js';

/** `spec.tracing` of the Telemetry for `service`, else of the mesh-wide default, else undefined. */
export function tracingSettingsFor(
  resources: readonly Resource[],
  service: ServiceIdentity | undefined,
): TracingSettings | undefined {
  let meshDefault: TelemetryResource | undefined;
  for (const resource of resources) {
    if (resource.kind !== 'Telemetry') continue;
    const target = resource.spec.service;
    if (target === undefined) meshDefault ??= resource;
    else if (
      service !== undefined &&
      target === service.name &&
      resource.metadata.namespace === service.namespace
    )
      return resource.spec.tracing;
  }
  return meshDefault?.spec.tracing;
}
