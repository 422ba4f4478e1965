// Validates one document on its own: envelope, schema (with defaults), formats, kind rules.
import { documentId } from '../issues.js';
import { API_VERSION, KINDS, isKind } from '../kinds.js';
import type { Kind } from '../kinds.js';
import type { ParsedDocument } from '../parse.js';
import type { Resource, ResourceOfKind } from '../schema/resources.js';
import { RESOURCE_SCHEMAS } from '../schema/resources.js';
import { show, typeName } from './describe.js';
import { checkDestinationPolicy } from './destination-policy.js';
import { checkEndpoints } from './endpoints.js';
import { checkFormats } from './formats.js';
import { DocumentIssues } from './issue-sink.js';
import type { IssueSink } from './issue-sink.js';
import { cloneData, isRecord, orderKeys } from './plain-data.js';
import { checkRateLimit } from './rate-limit.js';
import { checkRoute } from './route.js';
import { checkSchema } from './schema-check.js';
import { checkService } from './service.js';
import { checkTelemetry } from './telemetry.js';

export interface CheckedDocument {
  readonly doc: ParsedDocument;
  readonly sink: DocumentIssues;
  /** Known when `kind` names a Trellis kind. */
  readonly kind?: Kind;
  /** Known when `metadata.name` is a string, even if the document is otherwise broken. */
  readonly name?: string;
  readonly namespace: string;
  /** Set when the document passed the schema (its own rules may still have failed: see sink). */
  readonly resource?: Resource;
}

type KindCheck<K extends Kind> = (
  resource: ResourceOfKind<K>,
  raw: unknown,
  sink: IssueSink,
) => void;

const KIND_CHECKS: { readonly [K in Kind]: KindCheck<K> } = {
  Service: (resource, _raw, sink) => checkService(resource, sink),
  Endpoints: (resource, _raw, sink) => checkEndpoints(resource, sink),
  Route: checkRoute,
  DestinationPolicy: (resource, _raw, sink) => checkDestinationPolicy(resource, sink),
  RateLimit: (resource, _raw, sink) => checkRateLimit(resource, sink),
  RetryBudget: () => undefined,
  Telemetry: (resource, _raw, sink) => checkTelemetry(resource, sink),
};

export function checkDocument(doc: ParsedDocument): CheckedDocument {
  const sink = new DocumentIssues(doc);
  const raw = doc.value;
  if (!isRecord(raw)) {
    sink.error(
      'TRL_CFG_SCHEMA',
      [],
      `must be a mapping with apiVersion, kind, metadata and spec (got ${typeName(raw)})`,
    );
    return { doc, sink, namespace: 'default' };
  }
  const metadata = isRecord(raw['metadata']) ? raw['metadata'] : {};
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : undefined;
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : 'default';
  const rawKind = raw['kind'];
  if (typeof rawKind === 'string' && name !== undefined) {
    sink.documentId = documentId(rawKind, name, namespace);
  }
  checkApiVersion(raw['apiVersion'], sink);
  if (!isKind(rawKind)) {
    reportKind(rawKind, sink);
    return { doc, sink, ...(name === undefined ? {} : { name }), namespace };
  }
  const kind = rawKind;
  const identity = { doc, sink, kind, ...(name === undefined ? {} : { name }), namespace };
  const data = cloneData(raw);
  if (!checkSchema(kind, data, sink) || sink.hasErrors) return identity;
  const schema = RESOURCE_SCHEMAS[kind];
  const resource = orderKeys(schema, data) as Resource;
  checkFormats(schema, resource, sink);
  (KIND_CHECKS[kind] as KindCheck<Kind>)(resource, raw, sink);
  return { ...identity, resource };
}

function checkApiVersion(apiVersion: unknown, sink: IssueSink): void {
  if (apiVersion === undefined) sink.error('TRL_CFG_SCHEMA', ['apiVersion'], 'is required');
  else if (apiVersion !== API_VERSION) {
    sink.error(
      'TRL_CFG_API_VERSION',
      ['apiVersion'],
      `unsupported apiVersion ${show(apiVersion)} (expected ${API_VERSION})`,
    );
  }
}

function reportKind(kind: unknown, sink: IssueSink): void {
  if (kind === undefined) sink.error('TRL_CFG_SCHEMA', ['kind'], 'is required');
  else if (typeof kind !== 'string') {
    sink.error('TRL_CFG_SCHEMA', ['kind'], `must be a string (got ${typeName(kind)})`);
  } else {
    sink.error(
      'TRL_CFG_KIND',
      ['kind'],
      `unknown kind ${JSON.stringify(kind)} (expected one of ${KINDS.join(', ')})`,
    );
  }
}
