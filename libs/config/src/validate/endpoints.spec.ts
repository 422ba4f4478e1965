import { describe, expect, it } from 'vitest';
import { doc, problems, services, validate } from '../../testing/fixtures.js';

const endpoints = (list: unknown[]) =>
  doc('Endpoints', 'catalog', { service: 'catalog', endpoints: list });

describe('Endpoints', () => {
  it('accepts IPv4 and IPv6 endpoints and fills in weight and conditions', () => {
    const { resources, issues } = validate(
      ...services(),
      endpoints([
        { address: '127.0.0.1', port: 18082 },
        { address: '::1', port: 18082, weight: 5, zone: 'zone-a', conditions: { ready: false } },
      ]),
    );
    expect(issues).toEqual([]);
    expect(resources[3]?.spec).toEqual({
      service: 'catalog',
      endpoints: [
        {
          address: '127.0.0.1',
          port: 18082,
          weight: 1,
          conditions: { ready: true, serving: true, terminating: false },
        },
        {
          address: '::1',
          port: 18082,
          weight: 5,
          zone: 'zone-a',
          conditions: { ready: false, serving: true, terminating: false },
        },
      ],
    });
  });

  it('accepts an empty endpoint list', () => {
    expect(problems(endpoints([]))).toEqual([]);
  });

  it.each([
    '1.2.3',
    '256.1.1.1',
    '01.2.3.4',
    '1::2::3',
    'fe80::1%eth0',
    'localhost',
    '1:2:3:4:5:6:7:8:9',
  ])('rejects the address %j', (address) => {
    const [issue] = problems(endpoints([{ address, port: 80 }]));
    expect(issue).toMatch(
      /^endpoints\/catalog\.shop: spec\.endpoints\[0\]\.address: must be an IPv4 or IPv6 address \(got /,
    );
  });

  it('rejects the same address and port twice', () => {
    expect(
      problems(
        endpoints([
          { address: '10.0.0.1', port: 80 },
          { address: '10.0.0.1', port: 81 },
          { address: '10.0.0.1', port: 80 },
          { address: 'FE80::1', port: 80 },
          { address: 'fe80::1', port: 80 },
        ]),
      ),
    ).toEqual([
      'endpoints/catalog.shop: spec.endpoints[2]: duplicate endpoint 10.0.0.1:80 (also at spec.endpoints[0])',
      'endpoints/catalog.shop: spec.endpoints[4]: duplicate endpoint [fe80::1]:80 (also at spec.endpoints[3])',
    ]);
  });

  it('bounds weights to 1-1000', () => {
    expect(problems(endpoints([{ address: '10.0.0.1', port: 80, weight: 1001 }]))).toEqual([
      'endpoints/catalog.shop: spec.endpoints[0].weight: must be ≤ 1000 (got 1001)',
    ]);
  });

  it('rejects conditions that are not booleans', () => {
    expect(
      problems(endpoints([{ address: '10.0.0.1', port: 80, conditions: { ready: 'yes' } }])),
    ).toEqual([
      'endpoints/catalog.shop: spec.endpoints[0].conditions.ready: must be a boolean (got string)',
    ]);
  });
});
