// Trellis custom resources (routes.trellis.dev, ...) → documents, taken as they are: apiVersion,
// kind, metadata name/namespace/labels and spec, so that @trellis/config validates them with its
// usual messages. Status, annotations and the server's bookkeeping fields are left behind.
import { API_VERSION } from '@trellis/config';
import type { Kind, ParsedDocument } from '@trellis/config';
import { fields, readMeta, text } from './k8s-objects.js';
import { documentFile } from './translate-services.js';

export function translateCustomObject(object: unknown, kind: Kind): ParsedDocument | undefined {
  const meta = readMeta(object);
  const body = fields(object);
  if (meta === undefined || body === undefined) return undefined;
  const { name, namespace, labels } = meta;
  return {
    file: documentFile(kind, namespace, name),
    index: 0,
    value: {
      // Custom objects carry both; the fallbacks only guard against a client that strips them.
      apiVersion: text(body['apiVersion']) ?? API_VERSION,
      kind: text(body['kind']) ?? kind,
      metadata: {
        name,
        namespace,
        ...(Object.keys(labels).length === 0 ? {} : { labels: { ...labels } }),
      },
      // A copy: the state must not alias the informer's cache, which later events replace.
      ...(body['spec'] === undefined ? {} : { spec: structuredClone(body['spec']) }),
    },
  };
}
