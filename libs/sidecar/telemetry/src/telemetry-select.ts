// Picks the Telemetry resource whose access-log settings apply to this sidecar's workload:
// one naming the workload's service wins over the mesh-wide default (the one without
// spec.service), as the config reference specifies.
import type { Resource, TelemetryResource } from '@trellis/config';
import type { AccessLogSettings } from './access-log.js';

export interface ServiceIdentity {
  readonly name: string;
  readonly namespace: string;
}

/**
 * `spec.accessLog` of the Telemetry for `service`, else of the mesh-wide default; undefined
 * when neither exists (the access log then runs on its defaults). Without `service` (a
 * gateway, or a sidecar that does not know its service) only the mesh-wide default applies.
 */
export function accessLogSettingsFor(
  resources: readonly Resource[],
  service: ServiceIdentity | undefined,
): AccessLogSettings | undefined {
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
      return resource.spec.accessLog;
  }
  return meshDefault?.spec.accessLog;
}
