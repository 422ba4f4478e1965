import { describe, expect, it } from 'vitest';
import { isTrellisMessage, parseToPrimary, parseToWorker, parseWindow } from './ipc-messages.js';

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

  it('reads a request for the telemetry windows', () => {
    expect(parseToWorker({ type: 'trellis:collect', id: 8, view: 'telemetry' })).toEqual({
      type: 'trellis:collect',
      id: 8,
      view: 'telemetry',
    });
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
      'view must be one of stats, clusters, metrics, telemetry (got "config")',
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

const window = {
  windowSeconds: 10,
  series: [
    {
      direction: 'outbound',
      service: 'catalog.shop',
      seconds: [
        { age: 1, requests: 3, failures: 1, latency: [111, 2, 195, 1] },
        { age: 10, requests: 1, failures: 0, latency: [447, 1] },
      ],
    },
  ],
};

describe('parseWindow', () => {
  it('reads a worker’s destination windows, dropping unknown fields', () => {
    expect(parseWindow({ ...window, extra: true })).toEqual(window);
    expect(parseWindow({ windowSeconds: 3, series: [] })).toEqual({ windowSeconds: 3, series: [] });
  });

  const withSecond = (second: object) => ({
    windowSeconds: 10,
    series: [{ direction: 'outbound', service: 'a.shop', seconds: [second] }],
  });
  const ok = { age: 1, requests: 2, failures: 0, latency: [111, 2] };
  const where = 'bad cluster message: telemetry.series[0].seconds[0]';

  it('refuses a window that is not a whole number of seconds', () => {
    expect(() => parseWindow({ windowSeconds: 0, series: [] })).toThrow(
      'bad cluster message: telemetry.windowSeconds must be a whole number ≥ 1',
    );
    expect(() => parseWindow([])).toThrow('bad cluster message: telemetry must be an object');
    expect(() => parseWindow({ windowSeconds: 10, series: {} })).toThrow(
      'telemetry.series must be a list',
    );
  });

  it('refuses a series without a direction or service', () => {
    expect(() =>
      parseWindow({ windowSeconds: 10, series: [{ direction: '', service: 'a', seconds: [] }] }),
    ).toThrow('telemetry.series[0].direction must be a non-empty string');
    expect(() =>
      parseWindow({ windowSeconds: 10, series: [{ direction: 'outbound', seconds: [] }] }),
    ).toThrow('telemetry.series[0].service must be a non-empty string');
  });

  it('refuses a second outside the window', () => {
    expect(() => parseWindow(withSecond({ ...ok, age: 0 }))).toThrow(
      `${where}.age must be a whole number from 1 to 10`,
    );
    expect(() => parseWindow(withSecond({ ...ok, age: 11 }))).toThrow(
      `${where}.age must be a whole number from 1 to 10`,
    );
  });

  it('refuses counts that are not whole, or more failures than requests', () => {
    expect(() => parseWindow(withSecond({ ...ok, requests: 1.5 }))).toThrow(
      `${where}.requests must be a whole number ≥ 0 (got 1.5)`,
    );
    expect(() => parseWindow(withSecond({ ...ok, failures: 3 }))).toThrow(
      `${where}.failures exceeds its requests`,
    );
  });

  it('refuses latency buckets out of order or range, empty ones, and counts that do not add up', () => {
    expect(() => parseWindow(withSecond({ ...ok, latency: [111] }))).toThrow(
      `${where}.latency must hold [bucket, count] pairs`,
    );
    expect(() => parseWindow(withSecond({ ...ok, latency: [127, 1, 111, 1] }))).toThrow(
      `${where}.latency buckets must be whole numbers in ascending order`,
    );
    expect(() => parseWindow(withSecond({ ...ok, latency: [448, 2] }))).toThrow(
      `${where}.latency bucket 448 is not below 448`,
    );
    expect(() => parseWindow(withSecond({ ...ok, latency: [111, 2, 127, 0] }))).toThrow(
      `${where}.latency counts must be whole numbers ≥ 1 (got 0)`,
    );
    expect(() => parseWindow(withSecond({ ...ok, latency: [111, 1] }))).toThrow(
      `${where}.latency counts add up to 1, not to its 2 requests`,
    );
  });

  it('throws a WorkersError with a stable code', () => {
    expect(() => parseWindow(null)).toThrow(
      expect.objectContaining({ code: 'TRL_WORKERS_BAD_MESSAGE' }),
    );
  });
});
