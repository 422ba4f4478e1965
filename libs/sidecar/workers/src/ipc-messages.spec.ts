import { describe, expect, it } from 'vitest';
import { isTrellisMessage, parseToPrimary, parseToWorker } from './ipc-messages.js';

const snapshot = { version: 3, hash: 'sha256:ab', resources: [{ kind: 'Service' }] };

describe('isTrellisMessage', () => {
  it('tells this protocol from other users of the channel', () => {
    expect(isTrellisMessage({ type: 'trellis:hello' })).toBe(true);
    expect(isTrellisMessage({ type: 'prom-client:getMetricsReq' })).toBe(false);
    expect(isTrellisMessage({ cmd: 'NODE_CLUSTER' })).toBe(false);
    expect(isTrellisMessage('trellis:hello')).toBe(false);
    expect(isTrellisMessage(null)).toBe(false);
  });
});

describe('parseToWorker', () => {
  it('reads a snapshot, a view request and a drain', () => {
    expect(parseToWorker({ type: 'trellis:snapshot', snapshot })).toEqual({
      type: 'trellis:snapshot',
      snapshot,
    });
    expect(parseToWorker({ type: 'trellis:collect', id: 7, view: 'stats' })).toEqual({
      type: 'trellis:collect',
      id: 7,
      view: 'stats',
    });
    expect(parseToWorker({ type: 'trellis:drain' })).toEqual({ type: 'trellis:drain' });
  });

  it('drops fields that are not part of the message', () => {
    expect(parseToWorker({ type: 'trellis:drain', extra: 1 })).toEqual({ type: 'trellis:drain' });
  });

  it('refuses a snapshot with a bad version, hash or resource list', () => {
    const bad = (s: unknown) => () => parseToWorker({ type: 'trellis:snapshot', snapshot: s });
    expect(bad({ ...snapshot, version: 0 })).toThrow(
      'bad cluster message: version must be a positive integer (got 0)',
    );
    expect(bad({ ...snapshot, version: 1.5 })).toThrow('version must be a positive integer');
    expect(bad({ ...snapshot, hash: 'md5:x' })).toThrow('snapshot.hash must be sha256:<hex>');
    expect(bad({ ...snapshot, hash: '' })).toThrow('snapshot.hash must be a non-empty string');
    expect(bad({ ...snapshot, resources: {} })).toThrow('snapshot.resources must be a list');
    expect(bad({ ...snapshot, resources: [1] })).toThrow('snapshot.resources must be objects');
    expect(bad(undefined)).toThrow('snapshot must be an object');
  });

  it('refuses an unknown view, a bad id and an unknown type', () => {
    expect(() => parseToWorker({ type: 'trellis:collect', id: 1, view: 'config' })).toThrow(
      'view must be one of stats, clusters, metrics (got "config")',
    );
    expect(() => parseToWorker({ type: 'trellis:collect', id: -1, view: 'stats' })).toThrow(
      'id must be a whole number (got -1)',
    );
    expect(() => parseToWorker({ type: 'trellis:hello' })).toThrow(
      'unknown message type "trellis:hello"',
    );
  });

  it('throws a WorkersError with a stable code', () => {
    expect(() => parseToWorker({ type: 'x' })).toThrow(
      expect.objectContaining({ code: 'TRL_WORKERS_BAD_MESSAGE' }),
    );
  });
});

describe('parseToPrimary', () => {
  it('reads every worker message', () => {
    expect(parseToPrimary({ type: 'trellis:hello' })).toEqual({ type: 'trellis:hello' });
    expect(parseToPrimary({ type: 'trellis:applied', version: 2, hash: 'sha256:x' })).toEqual({
      type: 'trellis:applied',
      version: 2,
      hash: 'sha256:x',
    });
    expect(parseToPrimary({ type: 'trellis:rejected', version: 2, issues: ['bad'] })).toEqual({
      type: 'trellis:rejected',
      version: 2,
      issues: ['bad'],
    });
    expect(
      parseToPrimary({ type: 'trellis:listening', addresses: { gateway: '127.0.0.1:80' } }),
    ).toEqual({ type: 'trellis:listening', addresses: { gateway: '127.0.0.1:80' } });
    expect(
      parseToPrimary({ type: 'trellis:collected', id: 4, status: 200, body: { a: 1 } }),
    ).toEqual({ type: 'trellis:collected', id: 4, status: 200, body: { a: 1 } });
  });

  it('refuses malformed worker messages', () => {
    expect(() => parseToPrimary({ type: 'trellis:rejected', version: 2, issues: [1] })).toThrow(
      'issues must be a list of strings',
    );
    expect(() => parseToPrimary({ type: 'trellis:listening', addresses: { a: 1 } })).toThrow(
      'addresses must be strings',
    );
    expect(() => parseToPrimary({ type: 'trellis:listening', addresses: [] })).toThrow(
      'addresses must be an object',
    );
    expect(() => parseToPrimary({ type: 'trellis:collected', id: 1, status: 99 })).toThrow(
      'status must be an HTTP status',
    );
    expect(() => parseToPrimary({ type: 'trellis:applied', version: 2 })).toThrow(
      'hash must be a non-empty string',
    );
    expect(() => parseToPrimary({ type: 'trellis:drain' })).toThrow(
      'unknown message type "trellis:drain"',
    );
  });
});
