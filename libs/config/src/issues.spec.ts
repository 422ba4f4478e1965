import { describe, expect, it } from 'vitest';
import { documentId, formatIssue, formatPath } from './issues.js';

describe('formatIssue', () => {
  it('prints position, document, path and message', () => {
    expect(
      formatIssue({
        severity: 'error',
        code: 'TRL_CFG_SCHEMA',
        document: 'route/checkout',
        path: 'spec.retries.attempts',
        message: 'must be ≤ 10 (got 50)',
        source: { file: 'examples/shop.yaml', line: 12, column: 7 },
      }),
    ).toBe('examples/shop.yaml:12:7: route/checkout: spec.retries.attempts: must be ≤ 10 (got 50)');
  });

  it('leaves out the position when the source is unknown', () => {
    expect(
      formatIssue({
        severity: 'error',
        code: 'TRL_CFG_SCHEMA',
        document: 'route/checkout',
        path: 'spec.timeout',
        message: 'is required',
      }),
    ).toBe('route/checkout: spec.timeout: is required');
  });

  it('marks warnings after the position', () => {
    expect(
      formatIssue({
        severity: 'warning',
        code: 'TRL_CFG_OVERLAP',
        document: 'route/b',
        path: 'spec.hosts[0]',
        message: 'overlaps',
        source: { file: 'r.yaml', line: 3, column: 5 },
      }),
    ).toBe('r.yaml:3:5: warning: route/b: spec.hosts[0]: overlaps');
  });

  it('prints a bare message when nothing else is known', () => {
    expect(formatIssue({ severity: 'warning', code: 'X', message: 'odd' })).toBe('warning: odd');
  });
});

describe('formatPath', () => {
  it('writes indices in brackets', () => {
    expect(formatPath(['spec', 'destinations', 1, 'weight'])).toBe('spec.destinations[1].weight');
  });

  it('quotes keys that are not plain identifiers', () => {
    expect(formatPath(['spec', 'requestHeaders', 'set', 'bad key'])).toBe(
      'spec.requestHeaders.set["bad key"]',
    );
  });

  it('keeps dashes in plain keys', () => {
    expect(formatPath(['metadata', 'labels', 'app-name'])).toBe('metadata.labels.app-name');
  });

  it('is empty for the root', () => {
    expect(formatPath([])).toBe('');
  });
});

describe('documentId', () => {
  it('omits the default namespace', () => {
    expect(documentId('Route', 'checkout', 'default')).toBe('route/checkout');
  });

  it('appends other namespaces', () => {
    expect(documentId('DestinationPolicy', 'catalog', 'shop')).toBe(
      'destinationpolicy/catalog.shop',
    );
  });
});
