import { describe, expect, it } from 'vitest';
import { inboxPrefix, isSubjectToken, parseProxySubject, subjects } from './subjects.js';

describe('subjects', () => {
  it('build and parse per-proxy subjects', () => {
    const subject = subjects.status('shop', 'catalog-1');
    expect(subject).toBe('trellis.v1.status.shop.catalog-1');
    expect(parseProxySubject(subject, 'status')).toEqual(['shop', 'catalog-1']);
    expect(parseProxySubject(subject, 'telemetry')).toBeUndefined();
    expect(parseProxySubject('trellis.v1.status.shop', 'status')).toBeUndefined();
    expect(parseProxySubject('trellis.v2.status.shop.x', 'status')).toBeUndefined();
  });

  it('give each pod its own sync subject, under the control plane’s wildcard', () => {
    const subject = subjects.sync('shop', 'web-1');
    expect(subject).toBe('trellis.v1.sync.shop.web-1');
    expect(subject.startsWith(subjects.allSync.slice(0, -1))).toBe(true);
    expect(parseProxySubject(subject, 'sync')).toEqual(['shop', 'web-1']);
    expect(parseProxySubject(subjects.telemetry('shop', 'web-1'), 'sync')).toBeUndefined();
  });

  it('give each pod its own reply inbox prefix', () => {
    expect(inboxPrefix('shop', 'web-1')).toBe('_INBOX.shop.web-1');
  });

  it('accept only tokens without dots, wildcards or spaces', () => {
    expect(isSubjectToken('catalog-7d9f')).toBe(true);
    for (const bad of ['', 'a.b', '*', '>', 'a b']) expect(isSubjectToken(bad)).toBe(false);
  });
});
