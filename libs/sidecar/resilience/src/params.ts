// Parameter validation for the policy constructors. It runs once when a route's config is
// compiled into policies, never per request, and names the offending field so the config
// compiler can report the full path.

/** A policy was constructed from out-of-range parameters; `field` names the parameter. */
export class InvalidParamsError extends Error {
  readonly code = 'TRL_INVALID_PARAMS';
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'InvalidParamsError';
    this.field = field;
  }
}

/** Requires an integer in [min, max]. */
export function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidParamsError(field, `must be an integer in [${min}, ${max}] (got ${value})`);
  }
}

/** Requires a finite number in [min, max]. */
export function checkNumber(field: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new InvalidParamsError(field, `must be a number in [${min}, ${max}] (got ${value})`);
  }
}

/** Requires a finite number strictly above zero. */
export function checkPositive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidParamsError(field, `must be a finite number > 0 (got ${value})`);
  }
}

/** Requires a concurrency limit: a non-negative integer, or Infinity for "unlimited". */
export function checkLimit(field: string, value: number): void {
  if (value !== Infinity && (!Number.isInteger(value) || value < 0)) {
    throw new InvalidParamsError(
      field,
      `must be a non-negative integer or Infinity (got ${value})`,
    );
  }
}
