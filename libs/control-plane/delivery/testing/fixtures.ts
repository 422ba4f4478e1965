// Test fixtures: snapshots built from small valid Service resources, and a logger that records.
import { buildSnapshot, validateDocuments } from '@trellis/config';
import type { Resource, Snapshot } from '@trellis/config';
import type { DeliveryLogger } from '../src/logger.js';

/** Valid Service resources `names` in namespace `shop`, each on `port`. */
export function services(names: readonly string[], port = 80): Resource[] {
  const validated = validateDocuments(
    names.map((name, index) => ({
      file: 'test',
      index,
      value: {
        apiVersion: 'trellis.dev/v1alpha1',
        kind: 'Service',
        metadata: { name, namespace: 'shop' },
        spec: { ports: [{ port }] },
      },
    })),
  );
  const errors = validated.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new Error(`fixture does not validate: ${errors[0]?.message}`);
  return validated.resources;
}

/** A snapshot of services `names`; the version only matters where a test compares it. */
export function snapshotOf(names: readonly string[], version = 1, port = 80): Snapshot {
  return buildSnapshot(services(names, port), version);
}

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export function recordingLogger(): DeliveryLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, message });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
