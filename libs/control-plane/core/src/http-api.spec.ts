import { afterEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiServer } from './http-api.js';
import type { ApiRoute } from './http-api.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(routes: readonly ApiRoute[]): Promise<string> {
  server = createApiServer({ current: () => undefined }, routes);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const route: ApiRoute = {
  endpoints: ['/api/v1/extra'],
  handle(_req, res, path) {
    if (path !== '/api/v1/extra') return false;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('extra');
    return true;
  },
};

describe('createApiServer routes', () => {
  it('serves an extra route next to the built-in endpoints', async () => {
    const base = await serve([route]);
    expect(await (await fetch(`${base}/api/v1/extra`)).text()).toBe('extra');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
  });

  it('lists the extra endpoints in the 404 answer', async () => {
    const base = await serve([route]);
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { endpoints: string[] }).endpoints).toEqual([
      '/healthz',
      '/readyz',
      '/api/v1/snapshot',
      '/api/v1/issues',
      '/api/v1/extra',
    ]);
  });

  it('keeps the API read-only for extra routes too', async () => {
    const base = await serve([route]);
    expect((await fetch(`${base}/api/v1/extra`, { method: 'POST' })).status).toBe(405);
  });
});
