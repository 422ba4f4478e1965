import { describe, expect, it } from 'vitest';
import { isSuccessful } from './success-class.js';

describe('isSuccessful', () => {
  it('counts 2xx, 3xx and 4xx as successes', () => {
    expect([200, 302, 404, 429].map((s) => isSuccessful(s, undefined, 'complete'))).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });

  it('counts 5xx as failures', () => {
    expect([500, 502, 503, 504].map((s) => isSuccessful(s, undefined, 'complete'))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('counts the server-error gRPC statuses as failures and the rest as successes', () => {
    const failing = Array.from({ length: 17 }, (_, code) => code).filter(
      (code) => !isSuccessful(200, String(code), 'complete'),
    );
    expect(failing).toEqual([2, 4, 12, 13, 14, 15]);
  });

  it('counts a body cut off by the upstream or the proxy as a failure', () => {
    expect(isSuccessful(200, undefined, 'upstream-error')).toBe(false);
    expect(isSuccessful(200, undefined, 'internal-error')).toBe(false);
  });

  it('does not blame the server for a client that went away', () => {
    expect(isSuccessful(499, undefined, 'client-gone')).toBe(true);
  });
});
