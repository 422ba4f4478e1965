// Request ids must be well-formed version-4 UUIDs (what crypto.randomUUID gives) and not repeat,
// also across refills of the random pool.
import { describe, expect, it } from 'vitest';
import { newRequestId } from './request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newRequestId', () => {
  it('makes distinct version-4 UUIDs across pool refills', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = newRequestId();
      expect(id).toMatch(UUID_V4);
      ids.add(id);
    }
    expect(ids.size).toBe(2000);
  });

  it('uses every hex digit in the random positions', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) for (const c of newRequestId().replaceAll('-', '')) seen.add(c);
    expect([...seen].sort().join('')).toBe('0123456789abcdef');
  });
});
