// Ajv validation of one document against its kind's JSON Schema; fills in defaults as it goes.
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { Kind } from '../kinds.js';
import { resourceJsonSchemas } from '../schema/resources.js';
import type { DocumentIssues } from './issue-sink.js';
import { describeSchemaError } from './schema-messages.js';

let ajv: Ajv | undefined;
const validators = new Map<Kind, ValidateFunction>();

/** Compiled once per kind, on first use: compiling costs milliseconds, validating microseconds. */
function validatorFor(kind: Kind): ValidateFunction {
  let validate = validators.get(kind);
  if (validate === undefined) {
    ajv ??= new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true });
    validate = ajv.compile(resourceJsonSchemas[kind]);
    validators.set(kind, validate);
  }
  return validate;
}

/**
 * Validates `data` (which it mutates: defaults are filled in) and reports every violation, one per
 * field. `apiVersion` and `kind` are left to the caller, which words those issues itself.
 */
export function checkSchema(kind: Kind, data: unknown, sink: DocumentIssues): boolean {
  const validate = validatorFor(kind);
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
