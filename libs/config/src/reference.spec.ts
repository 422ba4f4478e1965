import { describe, expect, it } from 'vitest';
import { KINDS } from './kinds.js';
import { renderConfigReference } from './reference.js';

const reference = renderConfigReference();

describe('renderConfigReference', () => {
  it('has a section for every kind', () => {
    expect(reference.match(/^## .+$/gm)).toEqual([
      '## Common fields',
      ...KINDS.map((kind) => `## ${kind}`),
      '## Issue codes',
    ]);
  });

  it('lists fields with type, default, bounds and description', () => {
    expect(reference).toContain(
      '| `spec.retries.attempts` | integer | `2` | 0–10 | Retries after the first try (0 disables retries). |',
    );
    expect(reference).toContain(
      '| `spec.loadBalancer.algorithm` | enum | `least-request` | one of round-robin, least-request, ewma, consistent-hash |',
    );
    expect(reference).toContain(
      '| `spec.timeout` | duration | — | 1ms–1h | Timeout of the whole request, retries included. |',
    );
    expect(reference).toContain('| `metadata.name` | string | required | DNS label; ≤ 63 chars |');
  });

  it('shows array defaults and item bounds', () => {
    expect(reference).toContain(
      '| `spec.tracing.propagation` | enum[] | `w3c` | 1–3 items; each: one of w3c, b3, b3-multi |',
    );
  });

  it('lists the issue codes', () => {
    expect(reference).toContain(
      '| `TRL_CFG_WEIGHTS` | Route destination weights missing or not adding up to 100. |',
    );
  });

  it('escapes pipes inside cells', () => {
    expect(reference).toContain('header name; ≤ 256 chars');
    expect(reference).not.toMatch(/`\|~\)/);
  });

  it('is deterministic', () => {
    expect(renderConfigReference()).toBe(reference);
  });
});
