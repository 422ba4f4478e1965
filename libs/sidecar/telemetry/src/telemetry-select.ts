// Picks the Telemetry resource that applies to this sidecar's workload: one naming the
// workload's service wins over the mesh-wide default (the one without spec.service), as the
// config reference specifies. Tracing, metrics and access logs all read their part of it.
import type { Resource, TelemetryResource } from '@trellis/config';

export interface ServiceIdentity {
  readonly name: string;
  readonly namespace: string;
}

export type TelemetrySpec = TelemetryResource['spec'];

/**
 * The spec of the Telemetry for `service`, else of the mesh-wide default; undefined when
 * neither exists (everything then runs on its defaults). Without `service` (a gateway, or a
 * sidecar that does not know its service) only the mesh-wide default applies.
 */
export function telemetryFor(
  resources: readonly Resource[],
  service: ServiceIdentity | undefined,
): TelemetrySpec | undefined {
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
      return resource.spec;
  }
  return meshDefault?.spec;
}
