// Validation of one document against its kind's JSON Schema; fills in defaults as it goes. The
// validators are Ajv's, generated ahead of time (libs/config/scripts/validators.ts, `npm run
// docs:config`): compiling the schemas with Ajv on every start cost the sidecar ~100 ms.
import type { ValidateFunction } from 'ajv';
import * as validators from '../../generated/validators.js';
import type { Kind } from '../kinds.js';
import type { DocumentIssues } from './issue-sink.js';
import { describeSchemaError } from './schema-messages.js';

/**
 * Validates `data` (which it mutates: defaults are filled in) and reports every violation, one per
 * field. `apiVersion` and `kind` are left to the caller, which words those issues itself.
 */
export function checkSchema(kind: Kind, data: unknown, sink: DocumentIssues): boolean {
  const validate: ValidateFunction = validators[kind];
  if (validate(data)) return true;
  for (const error of validate.errors ?? []) {
    const finding = describeSchemaError(error, data);
    if (
      finding.path.length === 1 &&
      (finding.path[0] === 'apiVersion' || finding.path[0] === 'kind')
    ) {
      continue;
    }
    sink.firstError('TRL_CFG_SCHEMA', finding.path, finding.message, finding.part);
  }
  return false;
}
